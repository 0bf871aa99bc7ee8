// The console shell: navigation, routing, language, theme and the session. Each page is a module under
// pages/ exporting render(main, params); shared helpers live in lib.js.
import { api, session, setSession, t, setLang, lang, h, clear, toast, errorBox, allowed, go } from './lib.js';

// Pages in navigation order: path prefix, module, i18n key, role needed to see it. A page with a parent is not
// in the navigation; the parent's link shows as current on it.
const pages = [
  { path: '', module: './pages/overview.js', key: 'nav.overview' },
  { path: 'topics', module: './pages/topics.js', key: 'nav.topics' },
  { path: 'pipelines', module: './pages/pipelines.js', key: 'nav.pipelines' },
  { path: 'monitor', module: './pages/monitor.js', key: 'nav.monitor' },
  { path: 'runbooks', module: './pages/runbooks.js', key: 'nav.runbooks', parent: 'monitor' },
  { path: 'tables', module: './pages/tables.js', key: 'nav.tables' },
  { path: 'schemas', module: './pages/schemas.js', key: 'nav.schemas' },
  { path: 'sql', module: './pages/sql.js', key: 'nav.sql' },
  { path: 'metrics', module: './pages/metrics.js', key: 'nav.metrics' },
  { path: 'audit', module: './pages/audit.js', key: 'nav.audit', role: 'admin' },
];
const loginPage = { path: 'login', module: './pages/login.js', key: 'nav.login' };


function drawNav() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.documentElement.lang = lang();
  const nav = document.getElementById('nav');
  clear(nav);
  const first = location.pathname.replace(/^\/ui\/?/, '').split('/')[0];
  const here = pages.find((p) => p.path === first)?.parent ?? first;
  for (const p of pages) {
    if (!allowed(p.role) || p.parent !== undefined) continue;
    const a = h('a', { href: '/ui/' + p.path, 'data-nav': p.path || 'overview' }, t(p.key));
    if (p.path === here) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  document.getElementById('who').textContent = session.name ? `${session.name} · ${t('role.' + session.role)}` : '';
  document.getElementById('logout').hidden = session.via !== 'session';
}

let current = 0;
async function route() {
  const token = ++current;
  const rest = location.pathname.replace(/^\/ui\/?/, '');
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  let page = pages.find((p) => p.path === (parts[0] || ''));
  if (parts[0] === 'login') page = loginPage;
  const main = document.getElementById('main');
  if (!session.name && page !== loginPage) {
    page = loginPage;
  }
  drawNav();
  clear(main);
  if (!page) {
    main.append(errorBox(t('error.nopage', { path: location.pathname })));
    return;
  }
  document.title = `${t(page.key)} · Big Father`;
  try {
    const mod = await import(page.module);
    if (token !== current) return;
    await mod.render(main, parts.slice(1), new URLSearchParams(location.search));
  } catch (err) {
    if (token !== current) return;
    main.append(errorBox(err.message || String(err)));
  }
}


// Links inside the app navigate without a reload.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href^="/ui"]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.target) return;
  ev.preventDefault();
  go(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
window.addEventListener('bigfather:route', route);
window.addEventListener('bigfather:session', route);
window.addEventListener('bigfather:lang', route);

// Keyboard: g then o/t/p/m/b/s jumps to a page; / focuses the page's search box.
let gPressed = false;
document.addEventListener('keydown', (ev) => {
  if (ev.target.matches('input, textarea, select') || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === '/') {
    const search = document.querySelector('main input[type=search]');
    if (search) { ev.preventDefault(); search.focus(); }
    return;
  }
  if (gPressed) {
    const jump = { o: '', t: 'topics', p: 'pipelines', m: 'monitor', b: 'tables', s: 'sql' }[ev.key];
    gPressed = false;
    if (jump !== undefined) go('/ui/' + jump);
    return;
  }
  gPressed = ev.key === 'g';
});

function initTheme() {
  const saved = localStorage.getItem('bigfather.theme');
  const dark = saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.getElementById('theme').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('bigfather.theme', next);
    window.dispatchEvent(new Event('bigfather:theme'));
  });
}

function initLang() {
  const sel = document.getElementById('lang');
  sel.value = lang();
  sel.addEventListener('change', () => setLang(sel.value));
}

async function init() {
  initTheme();
  initLang();
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/logout');
    } catch (err) {
      toast(err.message);
    }
    setSession(null);
    go('/ui/login');
  });
  try {
    setSession(await api('GET', '/me'));
  } catch (err) {
    if (err.status !== 401) toast(err.message);
  }
  route();
}

init();
