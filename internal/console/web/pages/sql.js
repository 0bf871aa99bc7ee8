// SQL: an editor over the sandboxed, read-only engine; results paginated with row and time limits, a one-click
// line or bar chart of a result, CSV download and the query history.
import { api, h, t, section, emptyBox, errorBox, loading, table, chart, download, csv, fmtNum } from '../lib.js';

const PAGE = 100;

export async function render(main, parts, query) {
  main.append(h('h1', {}, t('nav.sql')), h('p', { class: 'sub' }, t('sql.sub')));
  const editor = h('textarea', { rows: 8, spellcheck: 'false', 'aria-label': t('sql.editor'), id: 'sql-editor' },
    query.get('q') || localStorage.getItem('bigfather.sql.last') || 'select * from staging.game_events limit 100');
  const limit = h('input', { type: 'number', min: 1, max: 100000, value: 10000, 'aria-label': t('sql.maxrows'), style: 'width: 110px' });
  const timeout = h('input', { type: 'number', min: 1, max: 300, value: 30, 'aria-label': t('sql.timeout'), style: 'width: 80px' });
  const run = h('button', { type: 'button', class: 'primary', id: 'sql-run' }, t('sql.run'));
  const out = h('div', { id: 'sql-result' });
  const hist = h('div', {});
  main.append(section(t('sql.editor'), editor, h('div', { class: 'row' }, run,
    h('label', {}, t('sql.maxrows'), ' ', limit), h('label', {}, t('sql.timeout'), ' ', timeout), h('span', { class: 'hint' }, t('sql.hint')))), out, section(t('sql.history'), hist));

  const showHistory = async () => {
    const data = await api('GET', '/sql/history');
    hist.replaceChildren(data.items.length ? table([t('col.time'), t('col.query'), t('col.rows'), t('col.took')],
      data.items.map((x) => [new Date(x.at).toLocaleTimeString(), h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); editor.value = x.query; } }, h('code', { class: 'cell-wrap' }, x.query)), x.rows ?? '–', x.error ? h('span', { class: 'badge bad' }, 'error') : `${fmtNum(x.took_ms)} ms`])) : emptyBox(t('sql.nohistory')));
  };

  const exec = async () => {
    const q = editor.value.trim();
    if (!q) return;
    localStorage.setItem('bigfather.sql.last', q);
    out.replaceChildren(loading());
    run.disabled = true;
    try {
      const res = await api('POST', '/sql', { query: q, max_rows: Number(limit.value), timeout_seconds: Number(timeout.value) });
      out.replaceChildren(result(res, q));
    } catch (err) {
      out.replaceChildren(errorBox(err.message, err.param ? t('sql.param', { param: err.param }) : undefined));
    } finally {
      run.disabled = false;
      showHistory().catch(() => {});
    }
  };
  run.addEventListener('click', exec);
  editor.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); exec(); }
  });
  await showHistory();
}

function result(res, q) {
  const box = section(t('sql.result', { rows: fmtNum(res.rows.length), ms: fmtNum(res.took_ms) }));
  if (res.truncated) box.append(h('p', { class: 'hint' }, t('sql.truncated', { n: fmtNum(res.rows.length) })));
  const view = h('div', {});
  const chartSlot = h('div', {});
  const cell = (v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const page = (offset) => {
    const rows = res.rows.slice(offset, offset + PAGE);
    view.replaceChildren(table(res.columns, rows.map((r) => r.map(cell)), { class: 'data' }),
      h('div', { class: 'pager' },
        h('button', { type: 'button', disabled: offset === 0, onclick: () => page(offset - PAGE) }, t('page.prev')),
        h('span', {}, t('page.range', { from: fmtNum(res.rows.length ? offset + 1 : 0), to: fmtNum(Math.min(offset + PAGE, res.rows.length)), total: fmtNum(res.rows.length) })),
        h('button', { type: 'button', disabled: offset + PAGE >= res.rows.length, onclick: () => page(offset + PAGE) }, t('page.next'))));
  };
  const numeric = res.types.map((ty) => /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/.test(ty));
  const timeLike = res.types.map((ty) => /TIMESTAMP|DATE/.test(ty));
  // The x axis is the first time column; else the first column when it holds labels (categories, in the
  // result's order); else the first number. Every other number column (up to four) is a series.
  const draw = (bars) => {
    let xi = res.columns.findIndex((_, i) => timeLike[i]);
    const categories = xi < 0 && res.columns.length > 1 && !numeric[0];
    if (xi < 0) xi = categories ? 0 : numeric.indexOf(true);
    const yis = res.columns.map((_, i) => i).filter((i) => numeric[i] && i !== xi);
    if (xi < 0 || !yis.length) {
      chartSlot.replaceChildren(emptyBox(t('sql.nochart')));
      return;
    }
    const rows = categories ? res.rows : [...res.rows].sort((a, b) => (a[xi] < b[xi] ? -1 : 1));
    const xs = rows.map((r, i) => (categories ? i : timeLike[xi] ? new Date(r[xi]).getTime() / 1000 : Number(r[xi])));
    const labels = categories ? rows.map((r) => cell(r[xi])) : undefined;
    chartSlot.replaceChildren(chart(`${res.columns[yis[0]]} / ${res.columns[xi]}`, xs, yis.slice(0, 4).map((i) => ({ label: res.columns[i], values: rows.map((r) => Number(r[i])) })), { bars, time: timeLike[xi], labels, height: 260 }));
  };
  box.append(h('div', { class: 'row' },
    h('button', { type: 'button', id: 'sql-line', onclick: () => draw(false) }, t('sql.line')),
    h('button', { type: 'button', id: 'sql-bar', onclick: () => draw(true) }, t('sql.bar')),
    h('button', { type: 'button', id: 'sql-csv', onclick: () => download('result.csv', 'text/csv', csv(res.columns, res.rows)) }, t('sql.csv'))), chartSlot, view);
  if (res.rows.length) page(0); else view.append(emptyBox(t('sql.norows')));
  return box;
}
