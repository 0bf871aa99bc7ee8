// Topics: a paginated, searchable list (partitions, messages, records/s, consumer groups, lag), the consumer
// groups, and per topic a message browser (by partition, offset, timestamp or newest) with a CEL filter
// evaluated on the server, live tail and export of the shown records.
import { api, h, t, section, fmtNum, emptyBox, errorBox, loading, table, pager, download, csv, toast, fmtBytes } from '../lib.js';

export async function render(main, parts, query) {
  if (parts.length === 0) return list(main, query);
  return browse(main, parts[0], query);
}

async function list(main, query) {
  main.append(h('h1', {}, t('nav.topics')), h('p', { class: 'sub' }, t('topics.sub')));
  const search = h('input', { type: 'search', placeholder: t('topics.search'), 'aria-label': t('topics.search'), value: query.get('search') || '', id: 'topic-search' });
  const slot = h('div', {});
  const groupsSlot = h('div', {});
  main.append(h('div', { class: 'row' }, search), section(t('nav.topics'), slot), section(t('topics.groups'), groupsSlot));
  const load = async (offset) => {
    slot.replaceChildren(loading());
    const page = await api('GET', `/topics?search=${encodeURIComponent(search.value)}&offset=${offset}&limit=50`);
    if (!page.items.length) {
      slot.replaceChildren(emptyBox(search.value ? t('topics.nomatch') : t('topics.empty')));
      return;
    }
    slot.replaceChildren(table([t('col.topic'), t('col.partitions'), t('col.messages'), t('col.size'), t('col.rps'), t('col.groups'), t('col.lag')],
      page.items.map((x) => [h('a', { href: `/ui/topics/${encodeURIComponent(x.name)}` }, x.name), x.partitions, x.messages, x.size == null ? '–' : fmtBytes(x.size), x.records_per_sec, (x.groups || []).join(', ') || '–', x.lag])), pager(page, load));
  };
  const loadGroups = async (offset) => {
    const page = await api('GET', `/groups?search=${encodeURIComponent(search.value)}&offset=${offset}&limit=20`);
    groupsSlot.replaceChildren(page.items.length ? h('div', {}, table([t('col.group'), t('col.state'), t('col.members'), t('col.topics'), t('col.lag')],
      page.items.map((g) => [g.name, g.state, g.members, (g.topics || []).join(', '), g.lag])), pager(page, loadGroups)) : emptyBox(t('topics.nogroups')));
  };
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { load(0); loadGroups(0); }, 250);
  });
  await Promise.all([load(0), loadGroups(0)]);
}

function messagesTable(msgs) {
  return table([t('col.partition'), t('col.offset'), t('col.time'), t('col.key'), t('col.headers'), t('col.value')],
    msgs.map((m) => [m.partition, m.offset, new Date(m.timestamp).toISOString(), h('code', {}, m.key),
      h('code', { class: 'cell-wrap' }, (m.headers || []).map((x) => `${x.key}=${x.value}`).join(' ')),
      h('code', { class: 'cell-wrap', 'data-offset': `${m.partition}:${m.offset}` }, m.value)]));
}

async function browse(main, name, query) {
  main.append(h('p', { class: 'sub' }, h('a', { href: '/ui/topics' }, t('nav.topics')), ' / ', name), h('h1', {}, name));
  const info = await api('GET', `/topics/${encodeURIComponent(name)}`);
  main.append(section(t('topics.partitions'), table([t('col.partition'), t('col.leader'), t('col.start'), t('col.end'), t('col.messages')],
    info.partitions.map((p) => [p.partition, p.leader, p.start_offset, p.end_offset, p.messages]))));

  const partition = h('select', { 'aria-label': t('col.partition'), id: 'msg-partition' }, h('option', { value: '-1' }, t('all')),
    info.partitions.map((p) => h('option', { value: p.partition }, String(p.partition))));
  const from = h('select', { 'aria-label': t('topics.from'), id: 'msg-from' }, ['newest', 'oldest', 'offset', 'timestamp'].map((f) => h('option', { value: f }, t('from.' + f))));
  const at = h('input', { 'aria-label': t('topics.at'), placeholder: t('topics.at'), id: 'msg-at', style: 'width: 200px' });
  const limit = h('input', { type: 'number', min: 1, max: 500, value: 50, 'aria-label': t('col.limit'), style: 'width: 80px' });
  const filter = h('input', { type: 'search', placeholder: 'value.event_type == "purchase" && headers["source"] == "ios"', 'aria-label': t('topics.filter'), id: 'msg-filter', style: 'flex: 1; min-width: 320px', value: query.get('filter') || '' });
  const go = h('button', { type: 'button', class: 'primary', id: 'msg-go' }, t('topics.browse'));
  const tail = h('button', { type: 'button', id: 'msg-tail' }, t('topics.tail'));
  const out = h('div', { id: 'msg-result' });
  let shown = [];
  const exportBtns = h('span', {},
    h('button', { type: 'button', id: 'msg-csv', onclick: () => download(`${name}.csv`, 'text/csv', csv(['partition', 'offset', 'timestamp', 'key', 'value', 'headers'], shown.map((m) => [m.partition, m.offset, m.timestamp, m.key, m.value, m.headers || []]))) }, t('export.csv')),
    ' ', h('button', { type: 'button', id: 'msg-json', onclick: () => download(`${name}.json`, 'application/json', JSON.stringify(shown, null, 2)) }, t('export.json')));
  main.append(section(t('topics.browser'), h('div', { class: 'row' }, partition, from, at, limit), h('div', { class: 'row' }, filter, go, tail, exportBtns), out));

  const params = () => {
    const q = new URLSearchParams({ partition: partition.value, from: from.value, limit: limit.value, filter: filter.value });
    if (from.value === 'offset') q.set('offset', at.value);
    if (from.value === 'timestamp') q.set('timestamp', at.value);
    return q;
  };
  const load = async () => {
    out.replaceChildren(loading());
    try {
      const res = await api('GET', `/topics/${encodeURIComponent(name)}/messages?${params()}`);
      shown = res.messages;
      out.replaceChildren(h('p', { class: 'hint', id: 'msg-count' }, t('topics.found', { n: fmtNum(res.messages.length), scanned: fmtNum(res.scanned) }) + (res.truncated ? ' ' + t('topics.truncated') : '')),
        res.messages.length ? messagesTable(res.messages) : emptyBox(t('topics.nomessages')));
    } catch (err) {
      out.replaceChildren(errorBox(err.message));
    }
  };
  let source = null;
  tail.addEventListener('click', () => {
    if (source) {
      source.close();
      source = null;
      tail.textContent = t('topics.tail');
      return;
    }
    shown = [];
    out.replaceChildren(h('p', { class: 'hint' }, t('topics.tailing')));
    const q = new URLSearchParams({ partition: partition.value, filter: filter.value });
    source = new EventSource(`/api/v1/topics/${encodeURIComponent(name)}/tail?${q}`);
    tail.textContent = t('topics.stop');
    source.addEventListener('message', (ev) => {
      shown.push(JSON.parse(ev.data));
      if (shown.length > 500) shown.shift();
      out.replaceChildren(h('p', { class: 'hint' }, t('topics.tailing')), messagesTable([...shown].reverse()));
    });
    source.addEventListener('error', () => { if (source && source.readyState === EventSource.CLOSED) toast(t('topics.tailstopped')); });
  });
  go.addEventListener('click', load);
  filter.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') load(); });
  await load();
}
