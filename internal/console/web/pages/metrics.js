// Metrics: the game metrics the platform materializes (GET /api/v1/metrics), one at a time over a date range
// (GET /api/v1/metrics/{name}?from=&to=&by=): a metric picker grouped by kind, from/to days with 7/30/90-day
// presets, a breakdown by one of the metric's dimensions, a comparison with the period before (time series),
// the chart that suits the metric (a line per breakdown key, retention's cohort triangle as a heat map, a
// funnel's steps as bars), an Export CSV link to the API's CSV of the same query, the metric's definition, and
// how complete the numbers are (complete until, source snapshot, the completeness report's gaps).
// The query lives in the URL (?metric=&from=&to=&by=&compare=1), so a view can be linked and reloaded.
import { api, h, t, section, emptyBox, errorBox, loading, fmtNum, fmtTime, lang } from '../lib.js';

// TOP is how many breakdown keys a chart draws: the largest by total.
const TOP = 8;

// PRESETS are the date range presets, in days ending today (in the metric's time zone).
const PRESETS = [7, 30, 90];

// groupOf is the picker's group of a metric kind (config.MetricKinds).
const groupOf = {
  active_users: 'players', new_users: 'players', sessions: 'players',
  retention: 'retention',
  revenue: 'revenue', paying_users: 'revenue', arpdau: 'revenue', arppu: 'revenue', conversion: 'revenue',
  funnel: 'funnel',
};
const groups = ['players', 'retention', 'revenue', 'funnel', 'other'];
const groupKey = {
  players: 'metrics.group.players', retention: 'metrics.group.retention', revenue: 'metrics.group.revenue',
  funnel: 'metrics.group.funnel', other: 'metrics.group.other',
};

const palette = ['--accent', '--c2', '--c3', '--c4', '--bad', '--info', '--warn', '--fg-muted'];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Days are YYYY-MM-DD strings; dayNum is a day's Unix seconds at 00:00 UTC, dayOf the reverse.
const dayNum = (d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000;
const dayOf = (sec) => new Date(sec * 1000).toISOString().slice(0, 10);
const addDays = (d, n) => dayOf(dayNum(d) + n * 86400);
const validDay = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && dayOf(dayNum(d)) === d;

// daysOf lists the days from..to inclusive.
function daysOf(from, to) {
  const out = [];
  for (let s = dayNum(from); s <= dayNum(to); s += 86400) out.push(dayOf(s));
  return out;
}

// today is the current day in the IANA zone tz (the metric's days are that zone's calendar days).
function today(tz) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

// pct shows a ratio as a percentage with one decimal, rounding halves up: 0.6 is "60.0%".
export function pct(v) {
  return `${(Math.round(v * 1000) / 10).toFixed(1)}%`;
}

// unitLabel names a unit in the console's language (a currency code stays itself).
function unitLabel(u) {
  const key = { players: 'metrics.unit.players', sessions: 'metrics.unit.sessions', ratio: 'metrics.unit.ratio', events: 'metrics.unit.events' }[u];
  return key ? t(key) : u || '–';
}

// fmtValue shows a metric's value in its unit: ratios as percentages, currencies with two decimals.
function fmtValue(v, unit) {
  if (v === null || v === undefined) return '–';
  if (unit === 'ratio') return pct(v);
  if (/^[A-Z]{3}$/.test(unit || '')) {
    try {
      return new Intl.NumberFormat(lang() === 'ko' ? 'ko-KR' : 'en-US', { style: 'currency', currency: unit, maximumFractionDigits: 2 }).format(v);
    } catch {
      return `${fmtNum(v, 2)} ${unit}`;
    }
  }
  return fmtNum(v, Number.isInteger(v) ? 0 : 2);
}

// metricPath is the API path of a query; format csv asks for the CSV download.
function metricPath(name, q, format) {
  const p = new URLSearchParams();
  if (q.from) p.set('from', q.from);
  if (q.to) p.set('to', q.to);
  if (q.by) p.set('by', q.by);
  if (format) p.set('format', format);
  const s = p.toString();
  return `/metrics/${encodeURIComponent(name)}${s ? '?' + s : ''}`;
}

// topKeys returns the breakdown keys of rows by total weight (weight(row)), largest first, and how many there are.
function topKeys(rows, by, weight) {
  const total = new Map();
  for (const r of rows) total.set(r[by], (total.get(r[by]) || 0) + (weight(r) || 0));
  const keys = [...total.keys()].sort((a, b) => total.get(b) - total.get(a) || String(a).localeCompare(String(b)));
  return { keys: keys.slice(0, TOP), all: keys.length };
}

export async function render(main, parts, query) {
  main.append(h('h1', {}, t('nav.metrics')), h('p', { class: 'sub' }, t('metrics.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  let list;
  try {
    list = (await api('GET', '/metrics')).metrics || [];
  } catch (err) {
    slot.replaceChildren(err.status === 404 ? emptyBox(t('metrics.none'), t('metrics.nonehint')) : errorBox(err.message));
    return;
  }
  if (!list.length) {
    slot.replaceChildren(emptyBox(t('metrics.none'), t('metrics.nonehint')));
    return;
  }
  const byName = Object.fromEntries(list.map((m) => [m.name, m]));
  const state = {
    metric: byName[query.get('metric')] ? query.get('metric') : list[0].name,
    from: validDay(query.get('from') || '') ? query.get('from') : '',
    to: validDay(query.get('to') || '') ? query.get('to') : '',
    by: query.get('by') || '',
    compare: query.get('compare') === '1',
  };

  // The controls.
  const picker = h('select', { id: 'metric-pick', 'data-control': 'metric' }, groups.map((g) => {
    const items = list.filter((m) => (groupOf[m.kind] || 'other') === g);
    return items.length ? h('optgroup', { label: t(groupKey[g]) },
      items.map((m) => h('option', { value: m.name, selected: m.name === state.metric }, `${m.name} (${unitLabel(m.unit)})`))) : null;
  }));
  const from = h('input', { type: 'date', id: 'metric-from', 'data-control': 'from', value: state.from });
  const to = h('input', { type: 'date', id: 'metric-to', 'data-control': 'to', value: state.to });
  const presets = PRESETS.map((n) => h('button', { type: 'button', 'data-preset': String(n), 'aria-pressed': 'false' }, t('metrics.last', { n })));
  const by = h('select', { id: 'metric-by', 'data-control': 'by' });
  const compare = h('input', { type: 'checkbox', id: 'metric-compare', 'data-control': 'compare', checked: state.compare });
  const exportLink = h('a', { href: '#', 'data-export': '', download: '', class: 'export' }, t('metrics.export'));
  const controls = h('div', { class: 'row', role: 'group', 'aria-label': t('metrics.query') },
    h('label', { for: 'metric-pick' }, t('metrics.metric')), picker,
    h('label', { for: 'metric-from' }, t('metrics.from')), from,
    h('label', { for: 'metric-to' }, t('metrics.to')), to,
    h('div', { class: 'seg', role: 'group', 'aria-label': t('metrics.presets') }, presets),
    h('label', { for: 'metric-by' }, t('metrics.by')), by,
    h('label', { class: 'check' }, compare, ' ', t('metrics.compare')),
    h('span', { class: 'spacer' }), exportLink);

  const view = h('div', { 'data-metric-view': '', 'data-state': 'loading' });
  slot.replaceChildren(section(t('metrics.query'), controls), view);

  const fillBy = () => {
    const info = byName[state.metric];
    if (!(info.dimensions || []).includes(state.by)) state.by = '';
    by.replaceChildren(h('option', { value: '' }, t('metrics.bynone')),
      ...(info.dimensions || []).map((d) => h('option', { value: d, selected: d === state.by }, d)));
    by.value = state.by;
    const line = info.chart === 'line';
    compare.disabled = !line;
    compare.parentElement.title = line ? '' : t('metrics.compareline');
  };
  const markPreset = () => {
    const info = byName[state.metric];
    const end = today(info.time_zone);
    for (const b of presets) {
      const n = Number(b.dataset.preset);
      b.setAttribute('aria-pressed', String(state.to === end && state.from === addDays(end, 1 - n)));
    }
  };
  const pushURL = () => {
    const url = new URL(location.href);
    url.search = '';
    url.searchParams.set('metric', state.metric);
    if (state.from) url.searchParams.set('from', state.from);
    if (state.to) url.searchParams.set('to', state.to);
    if (state.by) url.searchParams.set('by', state.by);
    if (state.compare) url.searchParams.set('compare', '1');
    history.replaceState(null, '', url);
  };

  let token = 0;
  const load = async () => {
    const mine = ++token;
    const info = byName[state.metric];
    pushURL();
    markPreset();
    destroyPlots(view);
    view.dataset.state = 'loading';
    view.replaceChildren(loading());
    const q = { from: state.from, to: state.to, by: state.by };
    exportLink.setAttribute('href', '/api/v1' + metricPath(info.name, q, 'csv'));
    let res;
    let prev = null;
    try {
      res = await api('GET', metricPath(info.name, q));
      if (state.compare && info.chart === 'line' && res.from && res.to) {
        const n = daysOf(res.from, res.to).length;
        prev = await api('GET', metricPath(info.name, { from: addDays(res.from, -n), to: addDays(res.from, -1), by: state.by }));
      }
    } catch (err) {
      if (mine !== token) return;
      view.dataset.state = 'error';
      view.replaceChildren(errorBox(err.message, err.param ? t('metrics.param', { param: err.param }) : undefined));
      return;
    }
    if (mine !== token || !view.isConnected) return;
    // An open range is the API's choice (the last 30 days with data): show it, and export exactly it.
    if (!state.from && res.from) from.value = res.from;
    if (!state.to && res.to) to.value = res.to;
    exportLink.setAttribute('href', '/api/v1' + metricPath(info.name, { from: res.from, to: res.to, by: state.by }, 'csv'));
    exportLink.setAttribute('download', `${info.name}_${res.from}_${res.to}.csv`);
    draw(view, info, res, prev);
  };

  picker.addEventListener('change', () => {
    state.metric = picker.value;
    fillBy();
    load();
  });
  const setRange = () => {
    if (from.value && !validDay(from.value) || to.value && !validDay(to.value)) return;
    state.from = from.value;
    state.to = to.value;
    load();
  };
  from.addEventListener('change', setRange);
  to.addEventListener('change', setRange);
  for (const b of presets) {
    b.addEventListener('click', () => {
      const end = today(byName[state.metric].time_zone);
      state.to = end;
      state.from = addDays(end, 1 - Number(b.dataset.preset));
      from.value = state.from;
      to.value = state.to;
      load();
    });
  }
  by.addEventListener('change', () => {
    state.by = by.value;
    load();
  });
  compare.addEventListener('change', () => {
    state.compare = compare.checked;
    load();
  });
  fillBy();
  await load();
}

// destroyPlots releases the uPlot charts under el.
function destroyPlots(el) {
  for (const f of el.querySelectorAll('figure.metric-chart')) f.destroy?.();
}

// draw shows a result: the chart card (rows, completeness, the chart) beside the definition.
function draw(view, info, res, prev) {
  const rows = res.rows || [];
  view.dataset.state = 'ready';
  view.dataset.metric = res.metric;
  view.dataset.from = res.from || '';
  view.dataset.to = res.to || '';
  view.dataset.rows = String(rows.length);
  view.dataset.chart = res.chart || info.chart;
  const title = `${res.metric} · ${unitLabel(res.unit || info.unit)}${res.by ? ' · ' + t('metrics.byone', { by: res.by }) : ''}`;
  const body = [];
  body.push(h('p', { class: 'hint', 'data-rows-count': String(rows.length) },
    t('metrics.range', { from: res.from || '–', to: res.to || '–' }), ' · ', t('metrics.rows', { n: fmtNum(rows.length) })));
  body.push(completeness(res));
  if (!rows.length) {
    body.push(emptyBox(t('metrics.empty'), t('metrics.emptyhint', { table: info.materialized_as || info.table })));
  } else if (view.dataset.chart === 'heatmap') {
    body.push(heatmaps(info, res));
  } else if (view.dataset.chart === 'bars') {
    body.push(funnels(info, res));
  } else {
    body.push(lineChart(info, res, prev));
  }
  const chartCard = section(title, ...body);
  chartCard.dataset.card = 'chart';
  view.replaceChildren(h('div', { class: 'metric-layout', style: 'display: grid; gap: 16px; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); align-items: start' },
    chartCard, definition(info)));
}

// completeness says up to when the numbers are complete and from which snapshot, and warns of known gaps.
function completeness(res) {
  const src = res.source || {};
  const out = h('div', { 'data-completeness': '' });
  out.append(h('p', { class: 'hint', 'data-complete': res.complete_until || '' },
    res.complete_until
      ? t('metrics.complete', { until: fmtTime(res.complete_until), snapshot: String(src.snapshot_id ?? '–') })
      : t('metrics.nocomplete', { snapshot: String(src.snapshot_id ?? '–') }),
    src.table ? ` (${src.table}${src.refreshed_at ? ', ' + t('metrics.refreshed', { at: fmtTime(src.refreshed_at) }) : ''})` : ''));
  const gaps = res.gaps || {};
  if (!gaps.known) {
    out.append(h('p', { class: 'hint', 'data-gaps': 'untracked' }, t('metrics.untracked')));
  } else if (gaps.count > 0) {
    out.append(h('div', { class: 'state notice', role: 'alert', 'data-gaps': String(gaps.count) },
      t('metrics.gaps', { count: fmtNum(gaps.count), missing: fmtNum(gaps.missing) }), ' ',
      h('span', { 'data-gap-days': (gaps.days || []).join(',') }, (gaps.days || []).join(', '))));
  }
  return out;
}

// definition is the metric's card: its description and what the number means, paragraph by paragraph.
function definition(info) {
  const paras = info.semantics || [];
  const card = section(t('metrics.definition'),
    info.description && info.description !== paras[0] ? h('p', { style: 'font-weight: 600' }, info.description) : null,
    paras.map((p, i) => h('p', { class: 'prose', style: `margin-bottom: 8px${i === 0 ? '; font-weight: 600' : ''}` }, p)),
    h('dl', { class: 'kv' },
      h('dt', {}, t('metrics.kind')), h('dd', {}, info.kind),
      h('dt', {}, t('metrics.unit')), h('dd', {}, unitLabel(info.unit)),
      h('dt', {}, t('metrics.source')), h('dd', {}, info.table),
      h('dt', {}, t('metrics.stored')), h('dd', {}, info.materialized_as || '–'),
      h('dt', {}, t('metrics.timezone')), h('dd', {}, info.time_zone || 'UTC'),
      info.chart === 'bars' && info.steps?.length ? [h('dt', {}, t('metrics.steps')), h('dd', {}, info.steps.join(' → '))] : null));
  card.dataset.card = 'definition';
  return card;
}

// lineChart draws a time series: one line per breakdown key (the TOP largest), and with prev the period before
// as dashed lines on the same days (its day i beside this period's day i). Days without a row are gaps.
function lineChart(info, res, prev) {
  const days = daysOf(res.from, res.to);
  const index = new Map(days.map((d, i) => [d, i]));
  const series = [];
  const column = (rows, key, shift) => {
    const vals = days.map(() => null);
    for (const r of rows) {
      if (res.by && r[res.by] !== key) continue;
      const i = index.get(shift ? addDays(r.day, shift) : r.day);
      if (i !== undefined) vals[i] = r.value;
    }
    return vals;
  };
  let note = null;
  let keys = [null];
  if (res.by) {
    const top = topKeys(res.rows, res.by, (r) => r.value);
    keys = top.keys;
    if (top.all > keys.length) note = h('p', { class: 'hint', 'data-top': String(keys.length) }, t('metrics.top', { shown: keys.length, n: top.all, by: res.by }));
  }
  keys.forEach((k, i) => series.push({ label: k === null ? res.metric : String(k), values: column(res.rows, k, 0), color: palette[i % palette.length] }));
  if (prev) {
    const shift = days.length;
    keys.forEach((k, i) => series.push({ label: t('metrics.previous', { name: k === null ? res.metric : String(k) }), values: column(prev.rows || [], k, shift), color: palette[i % palette.length], dash: true }));
  }
  return h('div', {}, note, plot(days, series, res.unit || info.unit));
}

// plot draws series over days with uPlot: x in Unix seconds at UTC midnight, labelled as days in UTC (the
// API's days are already the metric's local days). The figure carries data-series (the series drawn) and
// data-points (the days); its plot property is the uPlot instance once drawn.
function plot(days, series, unit) {
  const fig = h('figure', { class: 'chart metric-chart', 'data-chart': 'metric', 'data-series': String(series.length), 'data-points': String(days.length),
    role: 'img', 'aria-label': t('metrics.chartlabel', { series: series.map((s) => s.label).join(', '), from: days[0], to: days[days.length - 1] }) });
  const xs = days.map(dayNum);
  let u = null;
  let drawn = false;
  const paint = () => {
    if (drawn && !fig.isConnected) {
      fig.destroy();
      return;
    }
    drawn = true;
    u?.destroy();
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--line') }, ticks: { stroke: cssVar('--line') } };
    u = new window.uPlot({
      width: Math.max(320, (fig.clientWidth || 800) - 8),
      height: 280,
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true } },
      series: [{ label: t('metrics.day'), value: (self, v) => (v === null ? '–' : dayOf(v)) }, ...series.map((s) => ({
        label: s.label,
        stroke: cssVar(s.color),
        width: 2,
        dash: s.dash ? [6, 4] : undefined,
        points: { show: true, size: 5, fill: cssVar(s.color) },
        value: (self, v) => fmtValue(v, unit),
      }))],
      axes: [axis, { ...axis, size: 70, values: (self, splits) => splits.map((v) => fmtValue(v, unit)) }],
      legend: { show: true },
    }, [xs, ...series.map((s) => s.values)], fig);
    fig.plot = u;
    fig.dataset.drawn = String(series.length);
  };
  const onTheme = () => paint();
  requestAnimationFrame(paint);
  window.addEventListener('bigfather:theme', onTheme);
  fig.destroy = () => {
    drawn = true;
    u?.destroy();
    u = null;
    fig.plot = null;
    window.removeEventListener('bigfather:theme', onTheme);
  };
  return fig;
}

// heatmaps draws retention's cohort triangle: a row per cohort day, a column per day N, each observed cell
// coloured by its value with the percentage; a cell not yet observable stays empty. Under a breakdown, one
// triangle per key (the TOP largest by cohort size).
function heatmaps(info, res) {
  if (!res.by) return heatmap(info, res.rows, null);
  const sizes = new Map();
  for (const r of res.rows) sizes.set(`${r[res.by]}\u0000${r.cohort_day}`, r.cohort_size);
  const weight = new Map();
  for (const [k, n] of sizes) {
    const key = k.split('\u0000')[0];
    weight.set(key, (weight.get(key) || 0) + n);
  }
  const top = topKeys([...weight.keys()].map((k) => ({ [res.by]: k, w: weight.get(k) })), res.by, (r) => r.w);
  return h('div', {},
    top.all > top.keys.length ? h('p', { class: 'hint', 'data-top': String(top.keys.length) }, t('metrics.top', { shown: top.keys.length, n: top.all, by: res.by })) : null,
    top.keys.map((k) => h('div', {}, h('h3', {}, `${res.by} = ${k}`), heatmap(info, res.rows.filter((r) => String(r[res.by]) === String(k)), k))));
}

function heatmap(info, rows, key) {
  const ns = [...new Set([...(info.retention_days || []), ...rows.map((r) => r.day_n)])].sort((a, b) => a - b);
  const cohorts = [...new Set(rows.map((r) => r.cohort_day))].sort();
  const cell = new Map(rows.map((r) => [`${r.cohort_day}/${r.day_n}`, r]));
  const size = new Map(rows.map((r) => [r.cohort_day, r.cohort_size]));
  const head = h('tr', {}, h('th', { scope: 'col' }, t('metrics.cohort')), h('th', { scope: 'col', class: 'num' }, t('metrics.cohortsize')),
    ns.map((n) => h('th', { scope: 'col', class: 'num' }, `D${n}`)));
  const body = cohorts.map((c) => h('tr', { 'data-cohort': c },
    h('th', { scope: 'row' }, c), h('td', { class: 'num' }, fmtNum(size.get(c))),
    ns.map((n) => {
      const r = cell.get(`${c}/${n}`);
      if (!r) return h('td', { class: 'num', 'data-n': String(n), title: t('metrics.unobservable'), 'aria-label': t('metrics.unobservable') }, '');
      const v = r.value ?? 0;
      const strength = Math.round(8 + Math.min(1, Math.max(0, v)) * 82);
      return h('td', {
        class: 'num', 'data-filled': '', 'data-n': String(n), 'data-value': String(r.value),
        title: t('metrics.retained', { retained: fmtNum(r.retained), size: fmtNum(r.cohort_size), n, cohort: c }),
        style: `background: color-mix(in srgb, var(--accent) ${strength}%, transparent);${strength > 55 ? ' color: #fff;' : ''}`,
      }, r.value === null ? '–' : pct(r.value));
    })));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'heatmap', 'data-key': key ?? undefined },
    h('caption', { class: 'hint', style: 'caption-side: bottom; text-align: left; padding-top: 6px' }, t('metrics.heatcaption')),
    h('thead', {}, head), h('tbody', {}, body)));
}

// funnels draws a funnel's steps as horizontal bars: each step's count, its share of the first step and its
// conversion from the step before, summed over the range's days or for one day. Under a breakdown, one funnel
// per key (the TOP largest by their first step).
function funnels(info, res) {
  const days = [...new Set(res.rows.map((r) => r.day))].sort();
  const pick = h('select', { 'data-control': 'funnel-day', 'aria-label': t('metrics.funnelday') },
    h('option', { value: '' }, t('metrics.alldays')), days.map((d) => h('option', { value: d }, d)));
  const out = h('div', {});
  const show = () => {
    const rows = res.rows.filter((r) => !pick.value || r.day === pick.value);
    if (!res.by) {
      out.replaceChildren(funnel(info, res, rows, null));
      return;
    }
    const top = topKeys(rows.filter((r) => r.step === 1), res.by, (r) => r.value);
    out.replaceChildren(
      top.all > top.keys.length ? h('p', { class: 'hint', 'data-top': String(top.keys.length) }, t('metrics.top', { shown: top.keys.length, n: top.all, by: res.by })) : '',
      ...top.keys.map((k) => h('div', {}, h('h3', {}, `${res.by} = ${k}`), funnel(info, res, rows.filter((r) => String(r[res.by]) === String(k)), k))));
  };
  pick.addEventListener('change', show);
  show();
  return h('div', {}, h('div', { class: 'row' }, h('label', {}, t('metrics.funnelday'), ' ', pick)), out);
}

function funnel(info, res, rows, key) {
  const steps = new Map();
  for (const r of rows) {
    const s = steps.get(r.step) || { step: r.step, event: r.event, value: 0 };
    s.value += r.value || 0;
    steps.set(r.step, s);
  }
  const list = [...steps.values()].sort((a, b) => a.step - b.step);
  const first = list[0]?.value || 0;
  return h('ol', { class: 'funnel', 'data-key': key ?? undefined, style: 'list-style: none; margin: 0; padding: 0; display: grid; gap: 8px' }, list.map((s, i) => {
    const share = first ? s.value / first : 0;
    const conv = i > 0 && list[i - 1].value ? s.value / list[i - 1].value : null;
    return h('li', { 'data-step': String(s.step), 'data-event': s.event, 'data-value': String(s.value), style: 'display: grid; grid-template-columns: 180px 1fr 240px; gap: 12px; align-items: center' },
      h('span', {}, h('strong', {}, `${s.step}. `), h('code', {}, s.event)),
      h('span', { style: 'background: var(--bg); border: 1px solid var(--line); border-radius: 4px; height: 22px; position: relative', role: 'presentation' },
        h('span', { style: `display: block; height: 100%; width: ${Math.max(0.5, share * 100).toFixed(2)}%; background: ${cssVar(palette[0])}; border-radius: 3px` })),
      h('span', { class: 'num', style: 'font-variant-numeric: tabular-nums' }, h('strong', { 'data-count': '' }, fmtValue(s.value, res.unit || info.unit)),
        ' ', h('span', { class: 'hint', 'data-conversion': conv === null ? '' : pct(conv) }, conv === null ? t('metrics.firststep') : t('metrics.stepconv', { pct: pct(conv) }))));
  }));
}
