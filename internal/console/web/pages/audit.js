// Audit: every mutating call (who, what, when, from where, outcome), newest first; admins only.
import { api, h, t, section, emptyBox, loading, table, fmtTime } from '../lib.js';

export async function render(main) {
  main.append(h('h1', {}, t('nav.audit')), h('p', { class: 'sub' }, t('audit.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  const load = async (before) => {
    const data = await api('GET', `/audit?limit=50${before ? `&before_id=${before}` : ''}`);
    slot.replaceChildren();
    if (!data.items.length) {
      slot.append(emptyBox(t('audit.empty')));
      return;
    }
    const last = data.items[data.items.length - 1];
    slot.append(section(t('nav.audit'), table(
      [t('col.time'), t('col.actor'), t('col.action'), t('col.path'), t('col.remote'), t('col.outcome')],
      data.items.map((e) => [fmtTime(e.at), `${e.actor} (${e.role})`, e.action, h('code', { class: 'cell-wrap' }, e.path), e.remote,
        h('span', { class: `badge ${e.outcome === 'ok' ? 'ok' : 'bad'}`, title: e.detail || '' }, `${e.outcome} ${e.status}`)])),
    data.more ? h('div', { class: 'pager' }, h('button', { type: 'button', onclick: () => load(last.id) }, t('page.older'))) : null));
  };
  await load(0);
}
