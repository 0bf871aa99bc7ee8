// Shared helpers of the console's pages: the API client, the session, translations, DOM building, formatting,
// tables, charts and empty/error states.
import { messages } from './i18n.js';

// session is the caller as /api/v1/me reports it; pages read it, login and logout change it.
export const session = { name: '', role: 'none', via: '', csrf: '' };

// setSession takes the caller from /me or /login (null: logged out).
export function setSession(c) {
  Object.assign(session, { name: c?.name || '', role: c?.role || 'none', via: c?.via || '', csrf: c?.csrf_token || '' });
}

const roles = ['none', 'viewer', 'operator', 'admin'];

// allowed reports whether the caller's role reaches role (default viewer).
export function allowed(role) {
  return roles.indexOf(session.role) >= roles.indexOf(role || 'viewer');
}

// go navigates inside the app without a reload.
export function go(path) {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('bigfather:route'));
}

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.param = e.param || '';
  }
}

// exactInts keeps integers past 2^53 (snapshot ids) exact: JSON.parse hands a reviver each number's source
// text (where the browser supports it), and such an integer stays that text instead of losing digits.
function exactInts(key, value, ctx) {
  return typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(ctx?.source || '') ? ctx.source : value;
}

// api calls /api/v1: JSON in, JSON out; mutating calls carry the session's CSRF token.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const res = await fetch('/api/v1' + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin', signal: opts.signal,
  });
  if (opts.raw && res.ok) return res;
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text, exactInts) : null; } catch { data = { error: { message: text } }; }
  if (!res.ok) {
    if (res.status === 401 && session.name && path !== '/me') {
      setSession(null);
      window.dispatchEvent(new Event('bigfather:session'));
    }
    throw new APIError(res.status, data);
  }
  return data;
}

export function lang() {
  const saved = localStorage.getItem('bigfather.lang');
  if (saved && messages[saved]) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

export function setLang(l) {
  localStorage.setItem('bigfather.lang', l);
  document.documentElement.lang = l;
  window.dispatchEvent(new Event('bigfather:lang'));
}

// t translates a key, filling {name} placeholders; an unknown key shows itself (and is easy to spot).
export function t(key, vars = {}) {
  const m = messages[lang()][key] ?? messages.en[key] ?? key;
  return m.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

// h builds an element: h('a', {href: '/'}, 'text', child...). Attributes starting with "on" become listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

export function toast(msg) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.classList.add('show');
  clearTimeout(el._timer);
  el._timer = setTimeout(() => el.classList.remove('show'), 5000);
}

export function errorBox(msg, hint) {
  return h('div', { class: 'state error', role: 'alert' }, h('strong', {}, t('error.title')), h('p', {}, msg), hint ? h('p', { class: 'hint' }, hint) : null);
}

export function emptyBox(msg, hint) {
  return h('div', { class: 'state empty' }, h('p', {}, msg), hint ? h('p', { class: 'hint' }, hint) : null);
}

export function loading() {
  return h('div', { class: 'state loading', 'aria-busy': 'true' }, t('loading'));
}

// section is a titled card.
export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString(lang() === 'ko' ? 'ko-KR' : 'en-US', { maximumFractionDigits: digits });
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function fmtTime(s) {
  if (!s) return '–';
  const d = new Date(s);
  return d.toLocaleString(lang() === 'ko' ? 'ko-KR' : 'en-GB', { hour12: false });
}

export function fmtAgo(s) {
  if (!s) return '–';
  const sec = Math.max(0, (Date.now() - new Date(s).getTime()) / 1000);
  if (sec < 60) return t('ago.s', { n: Math.round(sec) });
  if (sec < 3600) return t('ago.m', { n: Math.round(sec / 60) });
  return t('ago.h', { n: fmtNum(sec / 3600, 1) });
}

// statusBadge colours a status: ok/running green, warn/paused amber, failing/error red, else grey.
export function statusBadge(status) {
  const cls = { running: 'ok', ok: 'ok', paused: 'warn', starting: 'info', failing: 'bad', error: 'bad' }[status] || 'info';
  return h('span', { class: `badge ${cls}`, 'data-status': status }, t('status.' + status));
}

// healthClass is the colour of each monitor status (internal/monitor/status.go): green when the consumer keeps up,
// amber when it falls behind, was paused or rewound, red when nothing moves or commits fail.
const healthClass = { OK: 'ok', WARN: 'warn', PAUSED: 'warn', REWIND: 'warn', STALL: 'bad', STOP: 'bad', ERR: 'bad' };

// healthBadge shows a monitor status (OK, WARN, STALL, STOP, ERR, REWIND, PAUSED) as its code, coloured, with
// what it means as the tooltip. With link, every status but OK links its runbook (/ui/runbooks/<status>) and
// OK the list of runbooks.
export function healthBadge(status, { link = false } = {}) {
  const s = status || '';
  const badge = h('span', { class: `badge ${healthClass[s] || 'info'}`, 'data-health': s || 'none', title: s ? t('health.' + s.toLowerCase()) : '' }, s || '–');
  if (!link || !s) return badge;
  const id = s === 'OK' ? '' : s.toLowerCase();
  return h('a', { href: id ? `/ui/runbooks/${id}` : '/ui/runbooks', class: 'badge-link', 'data-runbook': id || 'list', 'aria-label': t('monitor.runbookof', { status: s }) }, badge);
}

// fmtDur shows seconds as a short duration: 0.4 s, 12 s, 3.5 min, 2.1 h.
export function fmtDur(sec) {
  if (sec === null || sec === undefined || Number.isNaN(sec)) return '–';
  if (sec < 10) return `${fmtNum(sec, 1)} ${t('unit.s')}`;
  if (sec < 120) return `${fmtNum(sec)} ${t('unit.s')}`;
  if (sec < 7200) return `${fmtNum(sec / 60, 1)} ${t('unit.min')}`;
  return `${fmtNum(sec / 3600, 1)} ${t('unit.h')}`;
}

// fmtClock shows a time of day (HH:MM:SS) in the console's language.
export function fmtClock(s) {
  if (!s) return '–';
  return new Date(s).toLocaleTimeString(lang() === 'ko' ? 'ko-KR' : 'en-GB', { hour12: false });
}

// table renders rows (arrays of cells: strings, numbers or nodes) under headers; numbers and the headers of
// all-number columns are right-aligned.
export function table(headers, rows, opts = {}) {
  const num = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const thead = h('thead', {}, h('tr', {}, headers.map((x, i) => h('th', num[i] ? { scope: 'col', class: 'num' } : { scope: 'col' }, x))));
  const tbody = h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', typeof c === 'number' ? { class: 'num' } : {}, typeof c === 'number' ? fmtNum(c) : c)))));
  return h('div', { class: 'table-wrap' }, h('table', { class: opts.class || '' }, thead, tbody));
}

// pager renders previous/next controls for a page {offset, limit, total}; onPage(offset) loads another page.
export function pager(page, onPage) {
  const from = page.total ? page.offset + 1 : 0;
  const to = Math.min(page.offset + page.limit, page.total);
  return h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: page.offset === 0, onclick: () => onPage(Math.max(0, page.offset - page.limit)) }, t('page.prev')),
    h('span', {}, t('page.range', { from: fmtNum(from), to: fmtNum(to), total: fmtNum(page.total) })),
    h('button', { type: 'button', disabled: to >= page.total, onclick: () => onPage(page.offset + page.limit) }, t('page.next')));
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// gapped inserts a null sample wherever consecutive xs are further apart than 2.5 samples (the median spacing),
// so that uPlot breaks the line there instead of drawing across time it has no samples for. It returns the new
// xs and series values, and how many gaps it marked.
export function gapped(xs, columns) {
  if (xs.length < 3) return { xs, columns, gaps: 0 };
  const steps = xs.slice(1).map((x, i) => x - xs[i]).sort((a, b) => a - b);
  const step = steps[Math.floor(steps.length / 2)] || 1;
  const outX = [xs[0]];
  const outCols = columns.map((c) => [c[0]]);
  let gaps = 0;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] - xs[i - 1] > 2.5 * step) {
      outX.push(xs[i - 1] + step);
      outCols.forEach((c) => c.push(null));
      gaps++;
    }
    outX.push(xs[i]);
    outCols.forEach((c, j) => c.push(columns[j][i]));
  }
  return { xs: outX, columns: outCols, gaps };
}

// chart draws a chart with uPlot: xs are Unix seconds (or plain numbers with opts.time false), series
// [{label, values, points}] (null values leave a gap); title '' leaves the caption out (for a chart in a card
// that has the title). With opts.labels the x axis is categories instead: xs are 0..n-1 and labels[i] names the
// i-th. opts.gaps breaks the lines where samples are missing (see gapped); opts.sync links the cursors of the
// charts with the same key; opts.spark draws a small chart without axes, legend or cursor, opts.width wide.
// The figure carries data-chart (opts.id), data-points (how many xs), data-first and data-last (the first and
// last x) and, with opts.gaps, data-gaps (how many gaps it shows).
export function chart(title, xs, series, opts = {}) {
  const box = h('figure', { class: opts.spark ? 'chart spark' : 'chart', 'data-chart': opts.id, 'data-points': xs.length }, title ? h('figcaption', {}, title) : null);
  if (!xs.length) {
    box.append(opts.spark ? h('span', { class: 'hint' }, '–') : emptyBox(opts.empty || t('chart.empty')));
    return box;
  }
  box.dataset.first = String(xs[0]);
  box.dataset.last = String(xs[xs.length - 1]);
  let data = [xs, ...series.map((s) => s.values)];
  if (opts.gaps) {
    const g = gapped(xs, series.map((s) => s.values));
    data = [g.xs, ...g.columns];
    box.dataset.gaps = String(g.gaps);
  }
  const palette = ['--accent', '--c2', '--c3', '--c4'];
  let drawn = false;
  let plot = null;
  const draw = () => {
    if (drawn && !box.isConnected) {
      box.destroy();
      return;
    }
    drawn = true;
    plot?.destroy();
    const width = opts.width || Math.max(280, (box.clientWidth || 600) - 8);
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--line') }, ticks: { stroke: cssVar('--line') } };
    const labels = opts.labels;
    const xAxis = labels ? {
      ...axis,
      splits: () => xs.filter((_, i) => labels.length <= 40 || i % Math.ceil(labels.length / 40) === 0),
      values: (u, splits) => splits.map((v) => labels[v] ?? ''),
    } : axis;
    const line = (s, i) => ({
      label: s.label, stroke: cssVar(palette[i % palette.length]), width: opts.spark ? 1.5 : 2,
      points: opts.bars || opts.spark ? { show: false } : s.points ? { show: true, size: 5, fill: cssVar(palette[i % palette.length]) } : undefined,
      fill: (i === 0 && opts.fill) || opts.bars ? cssVar(opts.bars ? palette[i % palette.length] : '--accent-soft') : undefined,
      paths: opts.bars ? window.uPlot.paths.bars({ size: [0.6, 64] }) : undefined,
      scale: s.scale,
    });
    const axes = opts.spark ? [{ show: false }, { show: false }] : [xAxis, { ...axis, size: 60 }];
    plot = new window.uPlot({
      width, height: opts.height || (opts.spark ? 36 : 200),
      scales: { x: labels ? { time: false, range: () => [-0.5, xs.length - 0.5] } : { time: opts.time !== false } },
      series: [labels ? { value: (u, v) => labels[v] ?? '' } : {}, ...series.map(line)],
      axes,
      legend: { show: !opts.spark && series.length > 1 },
      cursor: opts.spark ? { show: false } : opts.sync ? { sync: { key: opts.sync } } : {},
      padding: opts.spark ? [2, 2, 2, 2] : undefined,
    }, data, box);
  };
  requestAnimationFrame(draw);
  window.addEventListener('bigfather:theme', draw);
  // destroy lets a page that replaces its charts release this one (its cursor sync and theme listener).
  box.destroy = () => {
    drawn = true;
    plot?.destroy();
    plot = null;
    window.removeEventListener('bigfather:theme', draw);
  };
  return box;
}

// destroyCharts releases the charts under el (see chart's destroy).
export function destroyCharts(el) {
  for (const f of el.querySelectorAll('figure.chart')) f.destroy?.();
}

// download saves text as a file.
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// csv turns columns and rows into CSV text.
export function csv(columns, rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}
