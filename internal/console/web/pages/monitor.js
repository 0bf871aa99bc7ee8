// Monitor: everything the monitor judged at its last sample (GET /monitor), redrawn every REFRESH ms while shown:
// the readiness checks, the firing and pending alerts with their runbooks, each pipeline's status (expandable
// to its partitions), the pipelines' tables (freshness, event age, files, snapshots, maintenance), the other
// consumer groups and the Kafka cluster. Every status badge and alert links its runbook (pages/runbooks.js).
import { api, h, t, section, fmtNum, fmtDur, fmtAgo, fmtClock, fmtTime, healthBadge, emptyBox, errorBox, loading, table } from '../lib.js';

// REFRESH is how often the page reloads the report and the alerts while it is shown.
const REFRESH = 3000;

const severityClass = { critical: 'bad solid', error: 'bad', warning: 'warn', info: 'info' };

function severityBadge(s) {
  return h('span', { class: `badge ${severityClass[s] || 'info'}`, 'data-severity': s }, t('severity.' + s));
}

function runbookLink(id) {
  return id ? h('a', { href: `/ui/runbooks/${encodeURIComponent(id)}`, 'data-runbook': id }, t('monitor.runbook')) : '–';
}

// okBadge is green or red, saying yes or no (passing or failing for a check).
function okBadge(ok, check = false) {
  return h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, check ? (ok ? t('monitor.pass') : t('monitor.fail')) : (ok ? t('yes') : t('no')));
}

// checkName is a readiness check's name in the console's language (its own name when the console has none).
function checkName(name) {
  const label = t('check.' + name);
  return label === 'check.' + name ? name : label;
}

// checks draws the readiness checks: each green or red with what failed.
function checks(items) {
  if (!items?.length) return emptyBox(t('monitor.nochecks'));
  return h('ul', { class: 'checks' }, items.map((c) => h('li', { 'data-check': c.name, 'data-ok': String(c.ok), class: c.ok ? 'ok' : 'bad' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), h('strong', {}, checkName(c.name)), ' ', okBadge(c.ok, true),
    c.message ? h('span', { class: 'cell-wrap' }, ' ', c.message) : null)));
}

function labels(l) {
  const entries = Object.entries(l || {}).filter(([k]) => k !== 'alertname' && k !== 'severity');
  return entries.length ? h('span', { class: 'mono cell-wrap' }, entries.map(([k, v]) => `${k}=${v}`).join(' ')) : '–';
}

// alerts draws the firing and pending alerts, most severe first as the API sorts them, and the rules behind
// them in a collapsed list.
function alerts(active, rules) {
  const out = [];
  if (active === null) out.push(errorBox(t('monitor.alertsfailed')));
  else if (!active.length) out.push(emptyBox(t('monitor.noalerts'), t('monitor.noalertshint', { n: fmtNum(rules?.length ?? 0) })));
  else {
    out.push(table([t('col.severity'), t('col.state'), t('col.rule'), t('col.summary'), t('col.labels'), t('col.since'), t('col.runbook')],
      active.map((a) => [severityBadge(a.severity), h('span', { class: `badge ${a.state === 'firing' ? 'bad' : 'info'}`, 'data-state': a.state }, t('alert.' + a.state)),
        h('code', {}, a.rule), h('span', { class: 'cell-wrap' }, a.summary), labels(a.labels),
        h('span', { title: fmtTime(a.fired_at || a.active_at) }, fmtAgo(a.fired_at || a.active_at)), runbookLink(a.runbook)]), { class: 'alerts' }));
  }
  if (rules?.length) {
    out.push(h('details', { class: 'rules' }, h('summary', {}, t('monitor.rules', { n: fmtNum(rules.length) })),
      table([t('col.rule'), t('col.condition'), t('col.for'), t('col.severity'), t('col.runbook')],
        rules.map((r) => [h('code', {}, r.name), h('code', { class: 'cell-wrap' }, r.condition), r.for_seconds ? fmtDur(r.for_seconds) : '–', severityBadge(r.severity), runbookLink(r.runbook)]))));
  }
  return out;
}

// pipelines draws the status table; a pipeline's row opens to its partitions (open keeps which are open across
// redraws).
function pipelines(items, open) {
  if (!items.length) return emptyBox(t('pipelines.empty'), t('pipelines.emptyhint'));
  const head = [t('col.pipeline'), t('col.health'), t('col.lag'), t('col.lagseconds'), t('col.processes'), t('col.detail')];
  const rows = [];
  for (const p of items) {
    const isOpen = open.has(p.name);
    const toggle = h('button', { type: 'button', class: 'toggle', 'aria-expanded': String(isOpen), 'data-toggle': p.name,
      'aria-label': t('monitor.partitionsof', { name: p.name }), onclick: () => {
        const now = !open.has(p.name);
        if (now) open.add(p.name); else open.delete(p.name);
        toggle.setAttribute('aria-expanded', String(now));
        toggle.textContent = now ? '▾' : '▸';
        detail.hidden = !now;
      } }, isOpen ? '▾' : '▸');
    const detail = h('tr', { class: 'expand', hidden: !isOpen, 'data-partitions': p.name },
      h('td', { colspan: head.length },
        p.partitions?.length ? table([t('col.topic'), t('col.partition'), t('col.health'), t('col.committed'), t('col.end'), t('col.lag'), t('col.lagseconds')],
          p.partitions.map((x) => [x.topic, x.partition, healthBadge(x.status), x.committed < 0 ? t('monitor.none') : x.committed, x.end, x.lag, fmtDur(x.lag_seconds)]))
          : emptyBox(t('monitor.nopartitions'))));
    rows.push(h('tr', { 'data-pipeline': p.name },
      h('td', {}, toggle, ' ', h('a', { href: `/ui/pipelines/${encodeURIComponent(p.name)}` }, p.name)),
      h('td', {}, healthBadge(p.status, { link: true })),
      h('td', { class: 'num' }, fmtNum(p.lag)),
      h('td', { class: 'num' }, fmtDur(p.lag_seconds)),
      h('td', { class: 'num' }, fmtNum(p.processes)),
      h('td', { class: 'cell-wrap' }, p.error ? h('span', { class: 'bad-text' }, p.error) : p.detail || (p.paused ? t('status.paused') : '–'))), detail);
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'status' },
    h('thead', {}, h('tr', {}, head.map((x, i) => h('th', i >= 2 && i <= 4 ? { scope: 'col', class: 'num' } : { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}

// tables draws every pipeline's tables: how fresh, how old the newest event, the files and maintenance.
function tables(items) {
  const rows = items.flatMap((p) => (p.tables || []).map((x) => [
    h('a', { href: `/ui/tables/${encodeURIComponent(x.name)}` }, x.name), p.name,
    fmtDur(x.freshness_seconds), x.newest_event ? h('span', { title: fmtTime(x.newest_event) }, fmtDur(x.event_age_seconds)) : '–',
    x.last_commit ? h('span', { title: fmtTime(x.last_commit) }, fmtAgo(x.last_commit)) : '–',
    x.snapshots, x.data_files, x.small_files, x.last_maintenance ? fmtTime(x.last_maintenance) : t('monitor.never'),
    x.error ? h('span', { class: 'bad-text cell-wrap' }, x.error) : '–']));
  if (!rows.length) return emptyBox(t('tables.empty'), t('tables.emptyhint'));
  return table([t('col.table'), t('col.pipeline'), t('col.freshness'), t('col.eventage'), t('col.lastcommit'), t('col.snapshots'), t('col.files'),
    t('col.smallfiles'), t('col.maintained'), t('col.error')], rows, { class: 'tables' });
}

function groups(items) {
  if (!items?.length) return emptyBox(t('monitor.nogroups'), t('monitor.nogroupshint'));
  return table([t('col.group'), t('col.state'), t('col.members'), t('col.health'), t('col.lag'), t('col.lagseconds'), t('col.error')],
    items.map((g) => [g.group, g.state || '–', g.members, healthBadge(g.status, { link: g.status !== 'OK' }), g.lag, fmtDur(g.lag_seconds),
      g.error ? h('span', { class: 'bad-text cell-wrap' }, g.error) : '–']), { class: 'groups' });
}

function kafka(k) {
  const brokers = k.brokers || [];
  const up = brokers.filter((b) => b.reachable).length;
  return h('div', {},
    k.error ? errorBox(k.error, t('monitor.kafkahint')) : null,
    h('dl', { class: 'kv', 'data-kafka': '' },
      h('dt', {}, t('col.brokers')), h('dd', { 'data-stat': 'brokers' }, t('monitor.reachable', { up: fmtNum(up), n: fmtNum(brokers.length) })),
      h('dt', {}, t('col.topics')), h('dd', { 'data-stat': 'topics' }, fmtNum(k.topics)),
      h('dt', {}, t('col.partitions')), h('dd', { 'data-stat': 'partitions' }, fmtNum(k.partitions)),
      h('dt', {}, t('col.underreplicated')), h('dd', { 'data-stat': 'under_replicated', class: k.under_replicated ? 'bad-text' : '' }, fmtNum(k.under_replicated)),
      h('dt', {}, t('col.offline')), h('dd', { 'data-stat': 'offline', class: k.offline ? 'bad-text' : '' }, fmtNum(k.offline))),
    brokers.length ? table([t('col.id'), t('col.address'), t('col.reachable'), t('col.error')],
      brokers.map((b) => [b.id, h('code', {}, b.address), okBadge(b.reachable), b.error ? h('span', { class: 'bad-text cell-wrap' }, b.error) : '–']), { class: 'brokers' }) : null);
}

export async function render(main) {
  const stamp = h('span', { class: 'hint', 'data-sampled': '' });
  main.append(h('div', { class: 'row' }, h('h1', {}, t('nav.monitor')), h('span', { class: 'spacer' }), stamp,
    h('a', { href: '/ui/runbooks', 'data-nav-runbooks': '' }, t('nav.runbooks'))),
  h('p', { class: 'sub' }, t('monitor.sub')));
  const slot = h('div', { id: 'monitor' }, loading());
  main.append(slot);
  const open = new Set();
  // The cards stay in place across redraws (so do the open details and the scroll); only their bodies change.
  const cards = {};
  const card = (key, title) => {
    if (!cards[key]) cards[key] = { el: section(title), body: h('div', {}) };
    cards[key].el.replaceChildren(h('h2', {}, title), cards[key].body);
    cards[key].el.dataset.card = key;
    return cards[key];
  };
  let timer = 0;
  let rulesOpen = false;

  const draw = (report, active, rules) => {
    rulesOpen = slot.querySelector('details.rules')?.open ?? rulesOpen;
    stamp.textContent = t('monitor.sampled', { at: fmtClock(report.at), every: fmtDur(report.interval_seconds) });
    const failing = report.checks.filter((c) => !c.ok).length;
    const firing = (active || []).filter((a) => a.state === 'firing').length;
    const parts = [
      ['checks', failing ? t('monitor.checksfailing', { n: fmtNum(failing) }) : t('monitor.checks'), checks(report.checks)],
      ['alerts', firing ? t('monitor.alertsfiring', { n: fmtNum(firing) }) : t('monitor.alerts'), alerts(active, rules)],
      ['pipelines', t('nav.pipelines'), pipelines(report.pipelines || [], open)],
      ['tables', t('nav.tables'), tables(report.pipelines || [])],
      ['groups', t('monitor.groups'), groups(report.groups)],
      ['kafka', t('monitor.kafka'), kafka(report.kafka || {})],
    ];
    const els = parts.map(([key, title, body]) => {
      const c = card(key, title);
      c.body.replaceChildren(...[body].flat());
      return c.el;
    });
    if (slot.querySelector('.state.loading, :scope > .state.error') || slot.children.length !== els.length) slot.replaceChildren(...els);
    const details = slot.querySelector('details.rules');
    if (details) details.open = rulesOpen;
  };

  const load = async () => {
    clearTimeout(timer);
    if (!slot.isConnected) return;
    const [rep, act, rul] = await Promise.allSettled([api('GET', '/monitor'), api('GET', '/alerts'), api('GET', '/alerts/rules')]);
    if (!slot.isConnected) return;
    if (rep.status === 'rejected') {
      const err = rep.reason;
      slot.replaceChildren(errorBox(err.message, err.status === 503 ? t('monitor.unavailable') : t('monitor.retrying')));
    } else {
      draw(rep.value, act.status === 'fulfilled' ? act.value.items : null, rul.status === 'fulfilled' ? rul.value.items : null);
    }
    timer = setTimeout(load, REFRESH);
  };
  await load();
}
