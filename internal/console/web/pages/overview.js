// Overview: the flow topics → pipelines → tables as a picture, each node with its status, rate, lag and
// freshness; every node links to its page. Below, each pipeline with its monitor status and its records/s and
// lag over the last hour (the monitor's history).
import { api, h, t, section, fmtNum, fmtAgo, statusBadge, healthBadge, emptyBox, loading, table, chart } from '../lib.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const statusClass = { running: 'ok', ok: 'ok', paused: 'warn', starting: 'warn', failing: 'bad', error: 'bad' };

function href(n) {
  if (n.kind === 'topic') return `/ui/topics/${encodeURIComponent(n.name)}`;
  if (n.kind === 'pipeline') return `/ui/pipelines/${encodeURIComponent(n.name)}`;
  return `/ui/tables/${encodeURIComponent(n.name)}`;
}

function detail(n) {
  const parts = [];
  if (n.records_per_sec !== undefined) parts.push(`${fmtNum(n.records_per_sec, 1)} ${t('unit.rps')}`);
  if (n.lag !== undefined) parts.push(`${t('col.lag')} ${fmtNum(n.lag)}`);
  if (n.last_commit) parts.push(`${t('col.fresh')} ${fmtAgo(n.last_commit)}`);
  if (n.rows !== undefined) parts.push(`${fmtNum(n.rows)} ${t('unit.rows')}`);
  return parts.join(' · ');
}

// flow lays the nodes out in three columns (topics, pipelines, tables) and draws the edges between them.
function flow(data) {
  const cols = { topic: [], pipeline: [], table: [] };
  for (const n of data.nodes) cols[n.kind].push(n);
  const W = 280, H = 54, GAPX = 90, GAPY = 18;
  const pos = {};
  let height = 0;
  ['topic', 'pipeline', 'table'].forEach((kind, ci) => {
    cols[kind].forEach((n, i) => {
      pos[n.id] = { x: 10 + ci * (W + GAPX), y: 10 + i * (H + GAPY) };
      height = Math.max(height, 10 + (i + 1) * (H + GAPY));
    });
  });
  const svg = s('svg', { viewBox: `0 0 ${3 * W + 2 * GAPX + 20} ${height + 10}`, role: 'img', 'aria-label': t('overview.flow') });
  for (const e of data.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    svg.append(s('path', { class: `edge ${e.kind}`, d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
  }
  for (const n of data.nodes) {
    const p = pos[n.id];
    const g = s('g', { class: `node ${statusClass[n.status] || ''}`, 'data-node': n.id, transform: `translate(${p.x},${p.y})` },
      s('rect', { width: W, height: H, rx: 8 }),
      s('text', { x: 12, y: 22 }, `${t('kind.' + n.kind)} · ${n.name}`),
      s('text', { x: 12, y: 40, class: 'muted' }, detail(n) || t('status.' + (n.status || 'unknown'))));
    svg.append(s('a', { href: href(n) }, g));
  }
  return h('div', { class: 'flow' }, svg);
}

export async function render(main) {
  main.append(h('h1', {}, t('nav.overview')), h('p', { class: 'sub' }, t('overview.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  const data = await api('GET', '/overview');
  slot.replaceChildren();
  if (!data.nodes.length) {
    slot.append(emptyBox(t('overview.empty'), t('overview.emptyhint')));
    return;
  }
  slot.append(section(t('overview.flow'), flow(data)));
  const pipes = data.nodes.filter((n) => n.kind === 'pipeline');
  const health = {};
  try {
    for (const p of (await api('GET', '/pipelines')).items) health[p.name] = p.status;
  } catch {
    // The badge shows '–': the flow above already says what is wrong.
  }
  const cells = pipes.map((n) => ({ rate: h('div', { 'data-spark': `rate:${n.name}` }), lag: h('div', { 'data-spark': `lag:${n.name}` }) }));
  slot.append(section(t('nav.pipelines'), table(
    [t('col.pipeline'), t('col.status'), t('col.rps'), t('col.lag'), t('col.fresh'), t('col.health'), t('overview.rate1h'), t('overview.lag1h')],
    pipes.map((n, i) => [h('a', { href: href(n) }, n.name), statusBadge(n.status), n.records_per_sec ?? 0, n.lag ?? 0, fmtAgo(n.last_commit),
      healthBadge(health[n.name], { link: true }), cells[i].rate, cells[i].lag]))));
  await Promise.all(pipes.map((n, i) => sparks(n.name, cells[i])));
}

// SPARK is the span of the overview's small charts (seconds).
const SPARK = 3600;

// sparks draws a pipeline's records/s and lag over the last SPARK seconds into its two cells.
async function sparks(name, cells) {
  let pts;
  try {
    pts = (await api('GET', `/pipelines/${encodeURIComponent(name)}/history?hours=1`)).points;
  } catch (err) {
    cells.rate.replaceChildren(h('span', { class: 'hint', title: err.message }, '–'));
    return;
  }
  const since = Date.now() / 1000 - SPARK;
  pts = pts.filter((pt) => new Date(pt.at).getTime() / 1000 >= since);
  const xs = pts.map((pt) => new Date(pt.at).getTime() / 1000);
  const last = pts[pts.length - 1];
  const spark = (id, label, field) => h('div', { class: 'spark-cell' },
    chart('', xs, [{ label, values: pts.map((pt) => pt[field]) }], { spark: true, gaps: true, width: 140, id: `${id}:${name}` }),
    h('span', { class: 'num' }, last ? fmtNum(last[field], field === 'lag' ? 0 : 1) : ''));
  cells.rate.replaceChildren(spark('rate', t('col.rps'), 'records_per_sec'));
  cells.lag.replaceChildren(spark('lag', t('col.lag'), 'lag'));
}
