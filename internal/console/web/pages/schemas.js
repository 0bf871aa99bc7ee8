// Schemas: the schema registry's subjects, and per subject its versions, compatibility level (operators change
// it), each version's schema, a side-by-side diff of two versions with the compatibility verdict between them,
// a compatibility check of a pasted schema (and, for operators, registering it), and the pipelines and tables
// that use the subject. It talks to the registry's own API on this origin (/subjects, /config, /compatibility,
// the same session and roles as /api/v1) and asks /api/v1/schemas/usage which pipelines use what.
import { api, session, setSession, allowed, h, t, section, emptyBox, errorBox, loading, table, toast, go } from '../lib.js';

const regType = 'application/vnd.schemaregistry.v1+json';
const levels = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];
const types = ['AVRO', 'JSON', 'PROTOBUF'];

// RegistryError is an error answer of the registry API: {error_code, message}.
class RegistryError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error_code || status;
  }
}

// reg calls the registry API on this origin: JSON in and out, the session's cookie and CSRF token.
async function reg(method, path, body) {
  const headers = { Accept: regType };
  if (body !== undefined) headers['Content-Type'] = regType;
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) {
    if (res.status === 401 && session.name) {
      setSession(null);
      window.dispatchEvent(new Event('bigfather:session'));
    }
    throw new RegistryError(res.status, data);
  }
  return data;
}

const subjectPath = (s) => `/subjects/${encodeURIComponent(s)}`;
const typeOf = (v) => v.schemaType || 'AVRO';

// pretty is a schema's text for reading and diffing: Avro and JSON Schema indented by two spaces, Protobuf as
// written (as `bigfather schemas show` prints it).
export function pretty(type, text) {
  if (type !== 'PROTOBUF') {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as written */ }
  }
  return text.replace(/\s+$/, '');
}

// lineDiff diffs two lists of lines along a longest common subsequence: [{op: ' '|'-'|'+', text}], removals
// before additions where both occur (the same diff `bigfather schemas diff` prints).
export function lineDiff(a, b) {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out = a.slice(0, pre).map((text) => ({ op: ' ', text }));
  const ma = a.slice(pre, a.length - suf);
  const mb = b.slice(pre, b.length - suf);
  const n = ma.length;
  const m = mb.length;
  if ((n + 1) * (m + 1) > 4_000_000) {
    out.push(...ma.map((text) => ({ op: '-', text })), ...mb.map((text) => ({ op: '+', text })));
  } else {
    const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i][j] = ma[i] === mb[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && ma[i] === mb[j]) {
        out.push({ op: ' ', text: ma[i] });
        i++;
        j++;
      } else if (j === m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.push({ op: '-', text: ma[i++] });
      } else {
        out.push({ op: '+', text: mb[j++] });
      }
    }
  }
  out.push(...a.slice(a.length - suf).map((text) => ({ op: ' ', text })));
  return out;
}

export async function render(main, parts, query) {
  if (parts.length === 0) return list(main, query);
  return detail(main, parts[0], query);
}

// noRegistry explains a registry that is not served (a REST catalog keeps no SQL database for it).
function registryError(err) {
  if (err.status === 404 && err.code === 404) return errorBox(t('schemas.noregistry'));
  return errorBox(err.message);
}

async function list(main, query) {
  main.append(h('h1', {}, t('nav.schemas')), h('p', { class: 'sub' }, t('schemas.sub')));
  const slot = h('div', {}, loading());
  main.append(slot);
  let latest;
  let usage;
  try {
    [latest, usage] = await Promise.all([reg('GET', '/schemas?latestOnly=true'), api('GET', '/schemas/usage')]);
  } catch (err) {
    slot.replaceChildren(registryError(err));
    return;
  }
  slot.replaceChildren();
  if (!latest.length) {
    slot.append(emptyBox(t('schemas.empty'), t('schemas.emptyhint')));
    return;
  }
  const users = {};
  for (const u of usage.items) (users[u.subject] ||= new Set()).add(u.pipeline);
  const search = h('input', { type: 'search', placeholder: t('schemas.search'), 'aria-label': t('schemas.search'), value: query.get('q') || '' });
  const box = h('div', {});
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const rows = latest.filter((v) => v.subject.toLowerCase().includes(q));
    const url = new URL(location.href);
    if (q) url.searchParams.set('q', search.value.trim()); else url.searchParams.delete('q');
    history.replaceState(null, '', url);
    if (!rows.length) {
      box.replaceChildren(emptyBox(t('schemas.nomatch', { q: search.value.trim() })));
      return;
    }
    const tbl = table([t('col.subject'), t('col.latest'), t('col.id'), t('col.type'), t('col.usedby')],
      rows.map((v) => [h('a', { href: `/ui/schemas/${encodeURIComponent(v.subject)}` }, v.subject), v.version, v.id, typeOf(v),
        [...(users[v.subject] || [])].join(', ') || '–']));
    tbl.querySelectorAll('tbody tr').forEach((tr, i) => { tr.dataset.subject = rows[i].subject; });
    box.replaceChildren(tbl);
  };
  search.addEventListener('input', draw);
  slot.append(section(t('schemas.subjects'), h('div', { class: 'row' }, search), box));
  draw();
}

// subjectLevel returns the subject's effective compatibility level and whether it differs from the global one
// (asking for the subject's own level would answer 404 when it has none, which the browser logs as an error).
async function subjectLevel(subject) {
  const [own, global] = await Promise.all([
    reg('GET', `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`),
    reg('GET', '/config'),
  ]);
  return { level: own.compatibilityLevel, own: own.compatibilityLevel !== global.compatibilityLevel };
}

async function detail(main, subject, query) {
  main.append(h('p', { class: 'sub' }, h('a', { href: '/ui/schemas' }, t('nav.schemas')), ' / ', subject));
  main.append(h('h1', {}, subject));
  const slot = h('div', {}, loading());
  main.append(slot);
  let versions;
  let lvl;
  let usage;
  try {
    const nums = await reg('GET', `${subjectPath(subject)}/versions`);
    [versions, lvl, usage] = await Promise.all([
      Promise.all(nums.map((n) => reg('GET', `${subjectPath(subject)}/versions/${n}`))),
      subjectLevel(subject),
      api('GET', `/schemas/usage?subject=${encodeURIComponent(subject)}`),
    ]);
  } catch (err) {
    slot.replaceChildren(err.code === 40401 ? emptyBox(t('schemas.nosubject', { subject }), t('schemas.nosubjecthint')) : registryError(err));
    return;
  }
  slot.replaceChildren();
  const latest = versions[versions.length - 1];
  const byNum = Object.fromEntries(versions.map((v) => [v.version, v]));

  slot.append(h('div', { class: 'grid' },
    section(t('schemas.overview'), h('dl', { class: 'kv' },
      h('dt', {}, t('col.type')), h('dd', { 'data-stat': 'type' }, typeOf(latest)),
      h('dt', {}, t('col.latest')), h('dd', { 'data-stat': 'version' }, String(latest.version)),
      h('dt', {}, t('col.id')), h('dd', { 'data-stat': 'id' }, String(latest.id)),
      h('dt', {}, t('col.versions')), h('dd', {}, versions.map((v) => v.version).join(', ')),
      h('dt', {}, t('col.compatibility')), h('dd', { 'data-stat': 'level' }, levelControl(subject, lvl)),
      h('dt', {}, t('col.references')), h('dd', {}, refsText(latest)))),
    usageCard(usage.items)));

  // One version's schema.
  const pick = h('select', { 'data-show-version': '', 'aria-label': t('col.version') },
    versions.map((v) => h('option', { value: v.version, selected: v === latest }, t('schemas.versionid', { version: v.version, id: v.id }))));
  const shown = h('pre', { 'data-schema': '' });
  const showVersion = () => {
    const v = byNum[pick.value];
    shown.textContent = pretty(typeOf(v), v.schema);
    shown.dataset.schema = String(v.version);
  };
  pick.addEventListener('change', showVersion);
  showVersion();
  slot.append(section(t('schemas.schema'), h('div', { class: 'row' }, h('label', {}, t('col.version'), ' ', pick)), shown));

  slot.append(diffCard(subject, versions, byNum, lvl, query));
  slot.append(checkCard(subject, latest, lvl));
}

function refsText(v) {
  if (!v.references?.length) return t('schemas.norefs');
  return h('span', {}, v.references.map((r, i) => [i ? ', ' : '',
    h('code', {}, r.name), ' → ', h('a', { href: `/ui/schemas/${encodeURIComponent(r.subject)}` }, `${r.subject} v${r.version}`)]));
}

// levelControl shows the level; operators pick another, or go back to the global one.
function levelControl(subject, lvl) {
  const text = lvl.own ? lvl.level : t('schemas.globallevel', { level: lvl.level });
  if (!allowed('operator')) return h('span', { 'data-level': lvl.level }, text);
  const sel = h('select', { 'data-level': lvl.level, 'aria-label': t('col.compatibility') },
    h('option', { value: '', selected: !lvl.own }, t('schemas.useglobal')),
    levels.map((l) => h('option', { value: l, selected: lvl.own && l === lvl.level }, l)));
  const save = h('button', { type: 'button', 'data-action': 'level', disabled: true }, t('schemas.save'));
  sel.addEventListener('change', () => { save.disabled = false; });
  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      if (sel.value) {
        await reg('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: sel.value });
      } else {
        // Back to the global level: a subject without a level of its own answers 40408, which is that.
        await reg('DELETE', `/config/${encodeURIComponent(subject)}`).catch((err) => { if (err.code !== 40408) throw err; });
      }
      toast(t('schemas.levelsaved', { subject }));
      go(location.pathname + location.search);
    } catch (err) {
      toast(err.message);
      save.disabled = false;
    }
  });
  return h('span', { class: 'row inline' }, sel, save, lvl.own ? null : h('span', { class: 'hint' }, text));
}

function usageCard(items) {
  const card = section(t('schemas.usage'), items.length
    ? table([t('col.pipeline'), t('col.table'), t('col.format')], items.map((u) => [
      h('a', { href: `/ui/pipelines/${encodeURIComponent(u.pipeline)}`, 'data-pipeline': u.pipeline }, u.pipeline),
      h('a', { href: `/ui/tables/${encodeURIComponent(u.table)}`, 'data-table': u.table }, u.table), u.format]))
    : emptyBox(t('schemas.unused'), t('schemas.unusedhint')));
  card.dataset.card = 'usage';
  return card;
}

// diffCard shows two chosen versions side by side, removed lines on the left and added ones on the right, and
// the verdict of checking the newer against the older at the subject's level.
function diffCard(subject, versions, byNum, lvl, query) {
  const nums = versions.map((v) => v.version);
  const want = (name, def) => (nums.includes(Number(query.get(name))) ? Number(query.get(name)) : def);
  const from = want('from', nums[Math.max(0, nums.length - 2)]);
  const to = want('to', nums[nums.length - 1]);
  const select = (name, value) => h('select', { 'data-diff': name, 'aria-label': t(`schemas.${name}`) },
    versions.map((v) => h('option', { value: v.version, selected: v.version === value }, t('schemas.versionid', { version: v.version, id: v.id }))));
  const fromSel = select('from', from);
  const toSel = select('to', to);
  const body = h('div', {});
  const draw = async () => {
    const a = byNum[fromSel.value];
    const b = byNum[toSel.value];
    const url = new URL(location.href);
    url.searchParams.set('from', a.version);
    url.searchParams.set('to', b.version);
    history.replaceState(null, '', url);
    const lines = lineDiff(pretty(typeOf(a), a.schema).split('\n'), pretty(typeOf(b), b.schema).split('\n'));
    const verdict = h('div', { 'data-diff-verdict': 'pending' }, loading());
    body.replaceChildren(diffTable(lines, a, b), verdict);
    const [older, newer] = a.version <= b.version ? [a, b] : [b, a];
    try {
      const ans = await reg('POST', `/compatibility${subjectPath(subject)}/versions/${older.version}?verbose=true`,
        { schema: newer.schema, schemaType: typeOf(newer), references: newer.references || [] });
      verdict.replaceChildren(verdictView(ans, t(ans.is_compatible ? 'schemas.diffok' : 'schemas.diffbad',
        { level: lvl.level, newer: newer.version, older: older.version })));
      verdict.dataset.diffVerdict = ans.is_compatible ? 'compatible' : 'incompatible';
    } catch (err) {
      verdict.replaceChildren(errorBox(err.message));
      verdict.dataset.diffVerdict = 'error';
    }
  };
  fromSel.addEventListener('change', draw);
  toSel.addEventListener('change', draw);
  draw();
  const card = section(t('schemas.diff'), h('div', { class: 'row' },
    h('label', {}, t('schemas.from'), ' ', fromSel), h('label', {}, t('schemas.to'), ' ', toSel)), body);
  card.dataset.card = 'diff';
  return card;
}

// diffTable lays the diff out in two columns: each run of removed lines beside the run of added lines that
// replaces it.
function diffTable(lines, a, b) {
  const rows = [];
  let ln = 0;
  let rn = 0;
  for (let i = 0; i < lines.length;) {
    if (lines[i].op === ' ') {
      rows.push([{ n: ++ln, text: lines[i].text, op: ' ' }, { n: ++rn, text: lines[i].text, op: ' ' }]);
      i++;
      continue;
    }
    const del = [];
    const add = [];
    while (i < lines.length && lines[i].op === '-') del.push(lines[i++].text);
    while (i < lines.length && lines[i].op === '+') add.push(lines[i++].text);
    for (let k = 0; k < Math.max(del.length, add.length); k++) {
      rows.push([k < del.length ? { n: ++ln, text: del[k], op: '-' } : null, k < add.length ? { n: ++rn, text: add[k], op: '+' } : null]);
    }
  }
  const cell = (c, side) => (c
    ? [h('td', { class: 'ln' }, String(c.n)), h('td', { class: `code ${c.op === ' ' ? '' : side}`, 'data-op': c.op === ' ' ? 'same' : side }, c.text)]
    : [h('td', { class: 'ln' }), h('td', { class: 'code none' })]);
  const added = lines.filter((l) => l.op === '+').length;
  const removed = lines.filter((l) => l.op === '-').length;
  return h('div', {},
    h('p', { class: 'hint', 'data-diff-stat': `+${added} -${removed}` }, t('schemas.diffstat', { added, removed })),
    h('div', { class: 'table-wrap' }, h('table', { class: 'diff' },
      h('colgroup', {}, h('col', { class: 'ln' }), h('col', {}), h('col', { class: 'ln' }), h('col', {})),
      h('thead', {}, h('tr', {}, h('th', { colspan: 2, scope: 'col' }, t('schemas.versionid', { version: a.version, id: a.id })),
        h('th', { colspan: 2, scope: 'col' }, t('schemas.versionid', { version: b.version, id: b.id })))),
      h('tbody', {}, rows.map(([l, r]) => h('tr', {}, cell(l, 'del'), cell(r, 'add')))))));
}

// verdictView shows a verbose compatibility answer: the verdict, and every incompatibility.
function verdictView(ans, text) {
  return h('div', { class: `verdict ${ans.is_compatible ? 'ok' : 'bad'}` },
    h('p', { 'data-compatible': String(ans.is_compatible) }, text),
    ans.messages?.length ? h('ul', { class: 'prose', 'data-messages': '' }, ans.messages.map((m) => h('li', {}, m))) : null);
}

// checkCard checks a pasted schema against the subject at its level; operators may register it.
function checkCard(subject, latest, lvl) {
  const text = h('textarea', { rows: 12, 'data-check-schema': '', 'aria-label': t('schemas.paste'), placeholder: t('schemas.paste'), spellcheck: 'false' });
  const type = h('select', { 'data-check-type': '', 'aria-label': t('col.type') },
    types.map((x) => h('option', { value: x, selected: x === typeOf(latest) }, x)));
  const result = h('div', { 'data-check-result': '' });
  const body = () => ({ schema: text.value, schemaType: type.value });
  const check = h('button', { type: 'button', class: 'primary', 'data-action': 'check' }, t('schemas.check'));
  check.addEventListener('click', async () => {
    result.dataset.checkResult = 'pending';
    result.replaceChildren(loading());
    try {
      const ans = await reg('POST', `/compatibility${subjectPath(subject)}/versions?verbose=true`, body());
      result.replaceChildren(verdictView(ans, t(ans.is_compatible ? 'schemas.checkok' : 'schemas.checkbad', { subject, level: lvl.level })));
      result.dataset.checkResult = ans.is_compatible ? 'compatible' : 'incompatible';
    } catch (err) {
      result.replaceChildren(errorBox(err.message));
      result.dataset.checkResult = 'error';
    }
  });
  let register = null;
  if (allowed('operator')) {
    register = h('button', { type: 'button', 'data-action': 'register' }, t('schemas.register'));
    register.addEventListener('click', async () => {
      result.dataset.checkResult = 'pending';
      try {
        const { id } = await reg('POST', `${subjectPath(subject)}/versions`, body());
        const v = await reg('POST', subjectPath(subject), body());
        toast(t('schemas.registered', { subject, version: v.version, id }));
        go(location.pathname);
      } catch (err) {
        result.replaceChildren(errorBox(err.message));
        result.dataset.checkResult = 'error';
      }
    });
  }
  const card = section(t('schemas.checktitle'), h('p', { class: 'hint' }, t('schemas.checkhint', { level: lvl.level })), text,
    h('div', { class: 'row' }, h('label', {}, t('col.type'), ' ', type), check, register), result);
  card.dataset.card = 'check';
  return card;
}
