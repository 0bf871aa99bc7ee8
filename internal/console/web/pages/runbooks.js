// Runbooks: the list (GET /runbooks), and one runbook (GET /runbooks/{id}): what a status or a built-in alert
// means, how to confirm it, the numbered steps to take, and the alert rules that link to it. Alert bodies link
// here (/ui/runbooks/<id>), and so do the Monitor page's status badges and alerts.
import { api, h, t, section, healthBadge, emptyBox, errorBox, loading, table } from '../lib.js';

export async function render(main, parts) {
  if (parts.length === 0) return list(main);
  return one(main, parts[0]);
}

// inline renders a runbook text: `...` becomes code (commands, metrics, keys), the rest stays text.
function inline(text) {
  return String(text).split('`').map((part, i) => (i % 2 ? h('code', {}, part) : part));
}

function crumbs(...rest) {
  return h('p', { class: 'sub' }, h('a', { href: '/ui/monitor' }, t('nav.monitor')), ' / ',
    rest.length ? [h('a', { href: '/ui/runbooks' }, t('nav.runbooks')), ' / ', ...rest] : t('nav.runbooks'));
}

async function list(main) {
  main.append(crumbs(), h('h1', {}, t('nav.runbooks')), h('p', { class: 'sub' }, t('runbooks.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  const data = await api('GET', '/runbooks');
  if (!data.items.length) {
    slot.replaceChildren(emptyBox(t('runbooks.empty')));
    return;
  }
  slot.replaceChildren(section(t('nav.runbooks'), table([t('col.runbook'), t('col.health'), t('col.id')],
    data.items.map((r) => [h('a', { href: `/ui/runbooks/${encodeURIComponent(r.id)}`, 'data-runbook': r.id }, r.title),
      r.status ? healthBadge(r.status) : '–', h('code', {}, r.id)]), { class: 'runbooks' })));
}

async function one(main, id) {
  main.append(crumbs(id));
  let r;
  try {
    r = await api('GET', `/runbooks/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    main.append(errorBox(t('runbooks.notfound', { id }), t('runbooks.notfoundhint')), h('p', {}, h('a', { href: '/ui/runbooks' }, t('runbooks.all'))));
    return;
  }
  document.title = `${r.title} · Big Father`;
  main.append(h('div', { class: 'row' }, h('h1', { 'data-runbook-title': r.id }, r.title), r.status ? healthBadge(r.status) : null));
  main.append(section(t('runbooks.meaning'), h('p', { class: 'prose', 'data-meaning': '' }, inline(r.meaning))));
  main.append(section(t('runbooks.confirm'), r.confirm?.length
    ? h('ul', { class: 'prose', 'data-confirm': '' }, r.confirm.map((c) => h('li', {}, inline(c))))
    : emptyBox(t('runbooks.noconfirm'))));
  main.append(section(t('runbooks.actions'), r.actions?.length
    ? h('ol', { class: 'prose', 'data-actions': '' }, r.actions.map((a) => h('li', {}, inline(a))))
    : emptyBox(t('runbooks.noactions'))));
  main.append(section(t('runbooks.rules'), r.rules?.length
    ? h('ul', { class: 'prose', 'data-rules': '' }, r.rules.map((name) => h('li', {}, h('code', {}, name))))
    : emptyBox(t('runbooks.norules'), t('runbooks.noruleshint'))));
}
