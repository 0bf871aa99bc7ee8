// The Metrics page in headless Chromium (metrics_browser_test.go runs it against `bigfather up --demo` with a
// few players' history staged days ago): the page opens, dau is picked and the last 30 days preset drawn as a
// uPlot line; comparing with the previous period adds a dashed series; retention draws its cohort triangle;
// the funnel its steps; then dau over the export range is downloaded with Export CSV. It records the API
// answers the page drew from (as text, the Go test parses them) beside what the page shows, takes screenshots
// into SHOT_DIR and prints one JSON line of what it saw.
//
// Environment: BASE_URL (the console's origin), FROM and TO (the last 30 days in the metrics' time zone),
// PREV_FROM and PREV_TO (the 30 days before), EXPORT_FROM and EXPORT_TO (the range exported).
const { main, newPage, expectNoErrors, shot, emit, fail } = await import(process.env.BIGFATHER_BROWSER_LIB);

const env = {};
for (const k of ['FROM', 'TO', 'PREV_FROM', 'PREV_TO', 'EXPORT_FROM', 'EXPORT_TO']) {
  env[k] = process.env[k];
  if (!env[k]) fail(`${k} must be set`);
}
const WAIT = 20_000;

const seen = {};
const shots = [];
async function snap(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  shots.push(await shot(page, name));
}

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** answer waits for the page's GET of a metric over from..to (json, by when given), and returns its body as text. */
function answer(page, metric, from, to, by = '') {
  return page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === `/api/v1/metrics/${metric}` && u.searchParams.get('from') === from && u.searchParams.get('to') === to &&
      (u.searchParams.get('by') || '') === by && !u.searchParams.has('format') && r.request().method() === 'GET';
  }, { timeout: WAIT }).then(async (r) => {
    if (r.status() !== 200) fail(`GET ${r.url()}: ${r.status()} ${await r.text()}`);
    return r.text();
  });
}

/** ready waits until the view shows metric over from..to. */
async function ready(page, metric, from, to) {
  await page.locator(`[data-metric-view][data-state="ready"][data-metric="${metric}"][data-from="${from}"][data-to="${to}"]`).waitFor({ timeout: WAIT });
}

/** lineSeen reads the line chart: its canvas, the uPlot series drawn (label, dash) and the rows line. */
async function lineSeen(page) {
  await page.locator('figure[data-chart="metric"][data-drawn]').waitFor({ timeout: WAIT });
  return page.evaluate(() => {
    const fig = document.querySelector('figure[data-chart="metric"]');
    const view = document.querySelector('[data-metric-view]');
    return {
      canvas: fig.querySelectorAll('canvas').length,
      series: fig.plot.series.length - 1,
      labels: fig.plot.series.slice(1).map((s) => s.label),
      dashed: fig.plot.series.slice(1).map((s) => Array.isArray(s.dash) && s.dash.length > 0),
      // Each series' drawn points as [day index, value].
      points: fig.plot.data.slice(1).map((col) => col.map((v, i) => [i, v]).filter(([, v]) => v !== null)),
      days: fig.plot.data[0].length,
      rows: view.dataset.rows,
      rowsText: view.querySelector('[data-rows-count]').innerText.trim(),
      complete: view.querySelector('[data-complete]').innerText.trim(),
      gaps: view.querySelector('[data-gaps]')?.innerText.trim() || '',
      top: view.querySelector('[data-top]')?.innerText.trim() || '',
    };
  });
}

await main(async (browser) => {
  const page = await newPage(browser);
  const t0 = Date.now();
  await page.goto('/ui/metrics');
  await page.locator('[data-metric-view][data-state="ready"]').waitFor({ timeout: WAIT });
  seen.nav = await page.locator('#nav a').allInnerTexts();
  seen.navCurrent = await page.locator('#nav a[aria-current="page"]').getAttribute('data-nav');
  seen.options = await page.locator('#metric-pick option').evaluateAll((os) => os.map((o) => `${o.parentElement.label}/${o.value}`));

  // dau over the last 30 days: one line.
  await page.selectOption('#metric-pick', 'dau');
  const dauAnswer = answer(page, 'dau', env.FROM, env.TO);
  await page.click('button[data-preset="30"]');
  seen.dauAnswer = await dauAnswer;
  await ready(page, 'dau', env.FROM, env.TO);
  seen.dau = await lineSeen(page);
  seen.dau.pressed = await page.locator('button[data-preset][aria-pressed="true"]').getAttribute('data-preset');
  seen.dau.url = new URL(page.url()).search;
  seen.definition = await page.locator('section[data-card="definition"] p.prose').allInnerTexts();
  await snap(page, 'metrics-dau');

  // Compared with the 30 days before: a dashed second series.
  const prevAnswer = answer(page, 'dau', env.PREV_FROM, env.PREV_TO);
  await page.check('#metric-compare');
  seen.prevAnswer = await prevAnswer;
  await page.locator('figure[data-chart="metric"][data-drawn="2"]').waitFor({ timeout: WAIT });
  seen.compare = await lineSeen(page);
  await page.uncheck('#metric-compare');
  await page.locator('figure[data-chart="metric"][data-drawn="1"]').waitFor({ timeout: WAIT });

  // Broken down by country: a line per country, the largest eight.
  const byAnswer = answer(page, 'dau', env.FROM, env.TO, 'country');
  await page.selectOption('#metric-by', 'country');
  seen.byAnswer = await byAnswer;
  await page.locator('[data-metric-view][data-state="ready"] figure[data-chart="metric"][data-drawn]').waitFor({ timeout: WAIT });
  seen.by = await lineSeen(page);
  const noneAnswer = answer(page, 'dau', env.FROM, env.TO);
  await page.selectOption('#metric-by', '');
  await noneAnswer;
  await page.locator('[data-metric-view][data-state="ready"] figure[data-chart="metric"][data-drawn="1"]').waitFor({ timeout: WAIT });

  // Retention: the cohort triangle.
  const retAnswer = answer(page, 'retention', env.FROM, env.TO);
  await page.selectOption('#metric-pick', 'retention');
  seen.retentionAnswer = await retAnswer;
  await ready(page, 'retention', env.FROM, env.TO);
  seen.retention = await page.evaluate(() => {
    const table = document.querySelector('table.heatmap');
    return {
      columns: [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim()),
      cohorts: [...table.querySelectorAll('tbody tr')].map((tr) => tr.dataset.cohort),
      filled: [...table.querySelectorAll('td[data-filled]')].map((td) => ({
        cohort: td.closest('tr').dataset.cohort, n: Number(td.dataset.n), text: td.innerText.trim(),
        background: getComputedStyle(td).backgroundColor,
      })),
      empty: table.querySelectorAll('td[data-n]:not([data-filled])').length,
      rows: document.querySelector('[data-metric-view]').dataset.rows,
    };
  });
  await snap(page, 'metrics-retention');

  // The funnel: its steps as bars.
  await page.selectOption('#metric-pick', 'funnel');
  await ready(page, 'funnel', env.FROM, env.TO);
  seen.funnel = await page.locator('ol.funnel li').evaluateAll((lis) => lis.map((li) => ({ step: li.dataset.step, event: li.dataset.event })));

  // dau over the export range, downloaded.
  await page.selectOption('#metric-pick', 'dau');
  await ready(page, 'dau', env.FROM, env.TO);
  await page.fill('#metric-from', env.EXPORT_FROM);
  await page.fill('#metric-to', env.EXPORT_TO);
  await ready(page, 'dau', env.EXPORT_FROM, env.EXPORT_TO);
  seen.exportHref = await page.getAttribute('a[data-export]', 'href');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.click('a[data-export]')]);
  seen.exportFile = download.suggestedFilename();
  seen.exportCSV = await streamText(await download.createReadStream());
  await snap(page, 'metrics-export');

  expectNoErrors(page);
  seen.tookMS = Date.now() - t0;
  seen.shots = shots;
  emit(seen);
});
