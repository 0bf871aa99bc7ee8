// Pipelines: the list, and per pipeline its config, partitions (next offset, lag, owner), charts of the
// monitor's history (1, 6 or 24 hours), recent commits, rejected records by reason with drill-down to the raw
// records, completeness, pause/resume.
import { api, h, t, section, fmtNum, fmtAgo, fmtTime, fmtClock, fmtDur, statusBadge, healthBadge, emptyBox, errorBox, loading, table, chart, destroyCharts, toast, allowed, pager } from '../lib.js';

export async function render(main, parts, query) {
  if (parts.length === 0) return list(main);
  if (parts[1] === 'rejected') return rejected(main, parts[0], query);
  return detail(main, parts[0], query);
}

async function list(main) {
  main.append(h('h1', {}, t('nav.pipelines')), h('p', { class: 'sub' }, t('pipelines.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  const data = await api('GET', '/pipelines');
  slot.replaceChildren();
  if (!data.items.length) {
    slot.append(emptyBox(t('pipelines.empty'), t('pipelines.emptyhint')));
    return;
  }
  slot.append(section(t('nav.pipelines'), table(
    [t('col.pipeline'), t('col.topics'), t('col.table'), t('col.status'), t('col.rps'), t('col.lag'), t('col.fresh'), t('col.health'), t('col.lagseconds')],
    data.items.map((p) => [h('a', { href: `/ui/pipelines/${encodeURIComponent(p.name)}` }, p.name), p.topics.join(', '),
      h('a', { href: `/ui/tables/${encodeURIComponent(p.table)}` }, p.table), statusBadge(p.state), p.records_per_sec, p.lag, fmtAgo(p.last_commit),
      healthBadge(p.status, { link: true }), fmtDur(p.lag_seconds)]))));
}

// controls are the pause/resume buttons of an operator. paused_by says what the process was asked (at once);
// state follows when the worker has acted on it, so the buttons go by paused_by and the badge by state.
function controls(p, refresh) {
  if (!allowed('operator')) return null;
  const act = async (ev, path, okKey) => {
    ev.currentTarget.disabled = true;
    try {
      await api('POST', `/pipelines/${encodeURIComponent(p.name)}/${path}`);
      toast(t(okKey));
    } catch (err) {
      toast(err.message);
    }
    refresh();
  };
  if (p.paused_by || p.state === 'paused') {
    return h('div', { class: 'row' },
      p.blocked ? h('span', { class: 'hint' }, t('pipelines.blocked', { offset: p.blocked })) : null,
      h('button', { type: 'button', class: 'primary', 'data-action': 'resume', onclick: (ev) => act(ev, 'resume?action=retry', 'pipelines.resumed') }, t('pipelines.resume')),
      p.paused_by === 'policy' ? h('button', { type: 'button', class: 'danger', 'data-action': 'skip', onclick: (ev) => act(ev, 'resume?action=skip', 'pipelines.resumed') }, t('pipelines.skip')) : null);
  }
  return h('div', { class: 'row' }, h('button', { type: 'button', 'data-action': 'pause', onclick: (ev) => act(ev, 'pause', 'pipelines.pausedok') }, t('pipelines.pause')));
}

// REFRESH is how often the pipeline page redraws its state, buttons and last error while it is shown.
const REFRESH = 2000;

// liveHead draws the pipeline's name, state, buttons and last error, and redraws them every REFRESH ms (and
// after a button) until the page is left. A pause shows as a notice, not as an error.
function liveHead(first) {
  const head = h('div', {});
  let timer = 0;
  const draw = (p) => head.replaceChildren(...[
    h('div', { class: 'row' }, h('h1', {}, p.name), statusBadge(p.state), h('span', { class: 'spacer' }), controls(p, refresh)),
    p.last_error ? (p.state === 'paused' ? h('div', { class: 'state notice', role: 'status' }, p.last_error) : errorBox(p.last_error)) : null].filter(Boolean));
  async function refresh() {
    clearTimeout(timer);
    if (!head.isConnected) return;
    try {
      draw(await api('GET', `/pipelines/${encodeURIComponent(first.name)}`));
    } catch (err) {
      toast(err.message);
    }
    if (head.isConnected) timer = setTimeout(refresh, REFRESH);
  }
  draw(first);
  timer = setTimeout(refresh, REFRESH);
  return head;
}

// RANGES are the spans the history charts offer; the first is the default.
const RANGES = [['1h', 3600], ['6h', 6 * 3600], ['24h', 24 * 3600]];

// HISTORY_REFRESH is how often the history charts reload while shown (the monitor samples every 10 s by default).
const HISTORY_REFRESH = 15000;

// historyCharts draws the pipeline's history (GET /pipelines/{name}/history, kept in the platform database, so
// it spans restarts) over the chosen range: records/s and rows/s, lag in records, lag and freshness in seconds,
// and commit duration. Missing samples (a stopped process) show as gaps. It reloads every HISTORY_REFRESH ms
// until the page is left; the range is kept in the URL (?range=6h).
function historyCharts(name, query) {
  let range = RANGES.find(([k]) => k === query.get('range')) || RANGES[0];
  const grid = h('div', { class: 'grid charts', 'data-range': range[0] });
  const meta = h('span', { class: 'hint', 'data-history': '' });
  const buttons = RANGES.map(([key]) => h('button', { type: 'button', 'data-range': key, 'aria-pressed': String(key === range[0]), onclick: () => pick(key) }, t('range.' + key)));
  const box = h('section', { class: 'card' },
    h('div', { class: 'row' }, h('h2', {}, t('pipelines.history')), h('span', { class: 'spacer' }), meta,
      h('div', { class: 'seg', role: 'group', 'aria-label': t('range.label') }, buttons)),
    grid);
  let points = [];
  let timer = 0;
  let loaded = false;
  const draw = () => {
    const since = Date.now() / 1000 - range[1];
    const pts = points.filter((pt) => new Date(pt.at).getTime() / 1000 >= since);
    const xs = pts.map((pt) => new Date(pt.at).getTime() / 1000);
    const col = (f, zeroIsNone) => pts.map((pt) => (zeroIsNone && !pt[f] ? null : pt[f]));
    const opts = { gaps: true, sync: `history-${name}` };
    meta.textContent = pts.length ? t('chart.points', { n: fmtNum(pts.length), since: fmtClock(pts[0].at) }) : '';
    grid.dataset.range = range[0];
    destroyCharts(grid);
    grid.replaceChildren(
      chart(t('chart.rate'), xs, [{ label: t('col.rps'), values: col('records_per_sec') }, { label: t('col.rowsps'), values: col('rows_per_sec') }], { ...opts, fill: true, id: 'rate' }),
      chart(t('chart.lag'), xs, [{ label: t('col.lag'), values: col('lag') }], { ...opts, id: 'lag' }),
      chart(t('chart.delay'), xs, [{ label: t('col.lagseconds'), values: col('lag_seconds') }, { label: t('col.freshness'), values: col('freshness_seconds') }], { ...opts, id: 'delay' }),
      // A sample without a commit has no duration: a dot per sample with commits, not a line through zeros.
      chart(t('chart.commit'), xs, [{ label: t('col.seconds'), values: col('commit_seconds', true), points: true }], { ...opts, id: 'commit' }));
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.range === range[0]));
  };
  const pick = (key) => {
    range = RANGES.find(([k]) => k === key);
    const q = new URLSearchParams(location.search);
    q.set('range', key);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    draw();
  };
  const load = async () => {
    clearTimeout(timer);
    if (loaded && !box.isConnected) {
      destroyCharts(grid);
      return;
    }
    loaded = true;
    try {
      points = (await api('GET', `/pipelines/${encodeURIComponent(name)}/history`)).points;
      draw();
    } catch (err) {
      grid.replaceChildren(errorBox(err.message, t('pipelines.historyhint')));
    }
    if (box.isConnected) timer = setTimeout(load, HISTORY_REFRESH);
  };
  box.ready = load();
  return box;
}

async function detail(main, name, query) {
  main.append(h('p', { class: 'sub' }, h('a', { href: '/ui/pipelines' }, t('nav.pipelines')), ' / ', name));
  const p = await api('GET', `/pipelines/${encodeURIComponent(name)}`);
  main.append(liveHead(p));

  const charts = historyCharts(name, query);
  main.append(charts);
  await charts.ready;

  main.append(section(t('pipelines.partitions'), p.partitions.length ? table(
    [t('col.topic'), t('col.partition'), t('col.next'), t('col.end'), t('col.lag'), t('col.owner')],
    p.partitions.map((x) => [x.topic, x.partition, x.next_offset, x.end_offset ?? '–', x.lag ?? '–', x.owner || '–'])) : emptyBox(t('pipelines.nopartitions'))));

  const rej = await api('GET', `/pipelines/${encodeURIComponent(name)}/rejected/reasons`);
  main.append(section(t('pipelines.rejected'), rej.items.length ? table(
    [t('col.reason'), t('col.field'), t('col.records'), t('col.example')],
    rej.items.map((r) => [h('a', { href: `/ui/pipelines/${encodeURIComponent(name)}/rejected?reason=${encodeURIComponent(r.reason_code)}`, 'data-reason': r.reason_code }, r.reason_code),
      r.field || '–', r.records, h('span', { class: 'cell-wrap' }, r.example)])) : emptyBox(t('pipelines.norejected'))));

  const commits = await api('GET', `/pipelines/${encodeURIComponent(name)}/commits?limit=20`);
  main.append(section(t('pipelines.commits'), commits.items.length ? table(
    [t('col.time'), t('col.table'), t('col.operation'), t('col.rows'), t('col.files'), t('col.snapshot')],
    commits.items.map((c) => [fmtTime(c.at), c.table, c.operation, c.added_rows, c.added_files, h('code', {}, String(c.snapshot_id))])) : emptyBox(t('pipelines.nocommits'))));

  if (p.completeness) {
    try {
      const c = await api('GET', `/pipelines/${encodeURIComponent(name)}/completeness`);
      main.append(section(t('pipelines.completeness'), h('dl', { class: 'kv', 'data-completeness': '' },
        h('dt', {}, t('col.producers')), h('dd', {}, fmtNum(c.producers)),
        h('dt', {}, t('col.rows')), h('dd', {}, fmtNum(c.rows)),
        h('dt', {}, t('col.gaps')), h('dd', {}, fmtNum(c.gap_count)),
        h('dt', {}, t('col.missing')), h('dd', {}, fmtNum(c.missing_total)),
        h('dt', {}, t('col.complete')), h('dd', {}, c.gap_count === 0 ? t('yes') : t('no'))),
        c.gaps.length ? table([t('col.producer'), t('col.from'), t('col.to')], c.gaps.slice(0, 20).map((g) => [g.producer, g.from, g.to])) : null));
    } catch (err) {
      main.append(section(t('pipelines.completeness'), errorBox(err.message)));
    }
  }
  main.append(section(t('pipelines.config'), h('pre', { class: 'mono' }, JSON.stringify(p.config, null, 2))));
}

async function rejected(main, name, query) {
  const reason = query.get('reason') || '';
  main.append(h('p', { class: 'sub' }, h('a', { href: '/ui/pipelines' }, t('nav.pipelines')), ' / ',
    h('a', { href: `/ui/pipelines/${encodeURIComponent(name)}` }, name), ' / ', t('pipelines.rejected')));
  main.append(h('h1', {}, t('pipelines.rejectedof', { reason: reason || t('all') })));
  const slot = h('div', {}, loading());
  main.append(slot);
  const load = async (offset) => {
    const page = await api('GET', `/pipelines/${encodeURIComponent(name)}/rejected?reason=${encodeURIComponent(reason)}&offset=${offset}&limit=50`);
    slot.replaceChildren();
    if (!page.items.length) {
      slot.append(emptyBox(t('pipelines.norejected')));
      return;
    }
    slot.append(section(t('pipelines.records'), table(
      [t('col.partition'), t('col.offset'), t('col.time'), t('col.reason'), t('col.field'), t('col.message'), t('col.value')],
      page.items.map((r) => [r.partition, r.offset, fmtTime(r.kafka_timestamp), r.reason_code, r.field || '–', h('span', { class: 'cell-wrap' }, r.reason),
        h('code', { class: 'cell-wrap', 'data-raw': 'value' }, r.value)])), pager(page, load)));
  };
  await load(0);
}
