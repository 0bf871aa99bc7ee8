// Tables: the list, and per table its schema (types, field ids), partition spec, snapshot history with the
// offsets each carries, row/file/size counts, maintenance state and a data preview.
import { api, h, t, section, fmtNum, fmtBytes, fmtTime, emptyBox, loading, table } from '../lib.js';

export async function render(main, parts) {
  if (parts.length === 0) return list(main);
  return detail(main, parts[0]);
}

async function list(main) {
  main.append(h('h1', {}, t('nav.tables')), h('p', { class: 'sub' }, t('tables.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  const data = await api('GET', '/tables');
  slot.replaceChildren();
  if (!data.items.length) {
    slot.append(emptyBox(t('tables.empty'), t('tables.emptyhint')));
    return;
  }
  slot.append(section(t('nav.tables'), table(
    [t('col.table'), t('col.rows'), t('col.files'), t('col.size'), t('col.snapshots'), t('col.lastcommit')],
    data.items.map((x) => [h('a', { href: `/ui/tables/${encodeURIComponent(x.name)}` }, x.name), x.rows, x.data_files, fmtBytes(x.bytes), x.snapshots, fmtTime(x.last_commit)]))));
}

async function detail(main, name) {
  main.append(h('p', { class: 'sub' }, h('a', { href: '/ui/tables' }, t('nav.tables')), ' / ', name));
  const x = await api('GET', `/tables/${encodeURIComponent(name)}`);
  main.append(h('h1', {}, x.name), h('p', { class: 'sub mono' }, x.location));
  main.append(h('div', { class: 'grid' },
    section(t('tables.stats'), h('dl', { class: 'kv' },
      h('dt', {}, t('col.rows')), h('dd', { 'data-stat': 'rows' }, fmtNum(x.rows)),
      h('dt', {}, t('col.files')), h('dd', {}, fmtNum(x.data_files)),
      h('dt', {}, t('col.size')), h('dd', {}, fmtBytes(x.bytes)),
      h('dt', {}, t('col.snapshots')), h('dd', {}, fmtNum(x.snapshots)),
      h('dt', {}, t('col.smallfiles')), h('dd', {}, fmtNum(x.small_files)),
      h('dt', {}, t('col.format')), h('dd', {}, `Iceberg v${x.format_version}`),
      h('dt', {}, t('col.maintained')), h('dd', {}, x.last_maintenance ? fmtTime(x.last_maintenance) : t('tables.nomaintenance')))),
    section(t('tables.partitioning'), x.partition_spec.length ? table([t('col.field'), t('col.transform'), t('col.source')],
      x.partition_spec.map((p) => [p.name, p.transform, p.source])) : emptyBox(t('tables.unpartitioned')))));
  main.append(section(t('tables.schema'), table([t('col.id'), t('col.column'), t('col.type'), t('col.required')],
    x.schema.map((f) => [f.id, h('code', {}, f.name), f.type, f.required ? t('yes') : t('no')]))));
  main.append(section(t('tables.snapshots'), x.history.length ? table(
    [t('col.time'), t('col.snapshot'), t('col.operation'), t('col.rows'), t('col.files'), t('col.offsets')],
    x.history.map((s) => [fmtTime(s.at), h('code', {}, String(s.snapshot_id)), s.operation, s.added_rows, s.added_files,
      h('span', { class: 'cell-wrap mono' }, Object.entries(s.offsets || {}).map(([k, v]) => `${k}=${v}`).join(' '))])) : emptyBox(t('tables.nosnapshots'))));
  const prev = h('div', {}, loading());
  main.append(section(t('tables.preview'), prev));
  try {
    const p = await api('GET', `/tables/${encodeURIComponent(name)}/preview?limit=20`);
    prev.replaceChildren(p.rows.length ? table(p.columns, p.rows.map((r) => r.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)))), { class: 'data' }) : emptyBox(t('tables.norows')));
  } catch (err) {
    prev.replaceChildren(emptyBox(err.message));
  }
}
