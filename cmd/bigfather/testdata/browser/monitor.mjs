// The monitoring acceptance test in headless Chromium (monitor_browser_test.go runs it against `bigfather up
// --demo` restarted once on the same data directory): the pipeline page's history charts hold the points sampled
// before the restart, with a gap where the process was down, and switch range; the Monitor page shows the
// readiness checks, the pipeline's status with its partitions, the alerts and rules, and the Kafka cluster, and
// follows a pause (status PAUSED, an alert firing) and a resume as it polls; a status badge leads to its runbook;
// the overview draws the last hour. One screenshot per step goes to SHOT_DIR. At the end it prints one JSON line of
// what it saw, for the Go test to check against the API.
//
// Environment: BASE_URL (the console's origin), PIPELINE (the pipeline's name).
const { main, newPage, expectText, expectNoErrors, shot, emit, fail } = await import(process.env.BIGFATHER_BROWSER_LIB);

const PIPELINE = process.env.PIPELINE;
if (!PIPELINE) fail('PIPELINE must be set');
// WAIT bounds each wait for a page to show something (ms); PAUSE_WAIT a status change, which takes a sample or
// two and a commit.
const WAIT = 20_000;
const PAUSE_WAIT = 30_000;

const seen = {};
const shots = [];
async function snap(page, name) {
  shots.push(await shot(page, name));
}

/** cells returns the text of every cell of the rows of a locator's tables, row by row. */
async function cells(loc) {
  return loc.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
}

/** charts reads every history chart: its id, points, first and last x, gaps and the size of its canvas. */
async function charts(page) {
  return page.locator('main figure.chart[data-chart]').evaluateAll((figs) => figs.map((f) => {
    const c = f.querySelector('.uplot canvas');
    const r = c ? c.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      id: f.dataset.chart, points: Number(f.dataset.points), first: Number(f.dataset.first), last: Number(f.dataset.last),
      gaps: Number(f.dataset.gaps ?? -1), width: Math.round(r.width), height: Math.round(r.height),
    };
  }));
}

async function history(page) {
  await page.goto(`/ui/pipelines/${PIPELINE}`);
  await expectText(page, 'main h1', PIPELINE, WAIT);
  for (const id of ['rate', 'lag', 'delay', 'commit']) {
    await page.locator(`main figure[data-chart="${id}"] .uplot canvas`).waitFor();
  }
  seen.charts = await charts(page);
  seen.historyCaption = await page.textContent('[data-history]');
  seen.rangePressed = await page.getAttribute('button[data-range="1h"]', 'aria-pressed');
  await snap(page, 'monitor-history');

  // Another range: the button shows pressed, the URL keeps it, the charts are drawn again.
  await page.click('button[data-range="6h"]');
  await page.locator('.grid.charts[data-range="6h"] figure[data-chart="lag"] .uplot canvas').waitFor();
  seen.range = {
    pressed: await page.getAttribute('button[data-range="6h"]', 'aria-pressed'),
    url: new URL(page.url()).search,
    charts: (await charts(page)).length,
  };
  expectNoErrors(page);
}

/** pipelineHealth is the status badge of the pipeline's row on the Monitor page. */
function pipelineHealth(page) {
  return page.locator(`tr[data-pipeline="${PIPELINE}"] [data-health]`);
}

async function monitor(page) {
  await page.click('#nav a[data-nav="monitor"]');
  await page.waitForURL((u) => u.pathname === '/ui/monitor');
  await expectText(page, 'main h1', 'Monitor', WAIT);
  await page.locator('[data-check]').first().waitFor();
  seen.checks = await page.locator('[data-check]').evaluateAll((els) => els.map((e) => ({ name: e.dataset.check, ok: e.dataset.ok, text: e.innerText })));
  await pipelineHealth(page).waitFor();
  seen.status = await pipelineHealth(page).getAttribute('data-health');
  seen.statusLink = await page.locator(`tr[data-pipeline="${PIPELINE}"] a[data-runbook]`).getAttribute('href');
  seen.brokers = await page.textContent('[data-stat="brokers"]');
  seen.kafka = await page.locator('[data-kafka] dd').allInnerTexts();
  seen.brokerRows = await cells(page.locator('section[data-card="kafka"]'));
  seen.alertsCard = await page.locator('section[data-card="alerts"]').innerText();
  seen.rulesSummary = await page.textContent('section[data-card="alerts"] details.rules summary');
  seen.tables = (await cells(page.locator('section[data-card="tables"]'))).map((r) => ({ table: r[0], pipeline: r[1], freshness: r[2] }));
  seen.nav = await page.locator('#nav a').allInnerTexts();
  seen.navCurrent = await page.getAttribute('#nav a[aria-current="page"]', 'data-nav');

  // The partitions open under the pipeline's row and stay open while the page redraws.
  await page.click(`[data-toggle="${PIPELINE}"]`);
  const parts = page.locator(`tr[data-partitions="${PIPELINE}"]`);
  await parts.locator('tbody tr').first().waitFor();
  const sampled = await page.textContent('[data-sampled]');
  await page.waitForFunction((s) => document.querySelector('[data-sampled]')?.textContent !== s, sampled, { timeout: WAIT });
  seen.redrawn = sampled !== (await page.textContent('[data-sampled]'));
  seen.partitionsOpen = await parts.isVisible();
  seen.partitions = (await cells(parts)).map((r) => ({ topic: r[0], partition: r[1], status: r[2] }));
  await snap(page, 'monitor');
  expectNoErrors(page);

  // A pause shows as PAUSED with the paused alert firing, without reloading the page.
  const paused = await page.evaluate(async (name) => (await fetch(`/api/v1/pipelines/${name}/pause`, { method: 'POST' })).status, PIPELINE);
  if (paused !== 200) fail(`pausing ${PIPELINE}: HTTP ${paused}`);
  await page.locator(`tr[data-pipeline="${PIPELINE}"] [data-health="PAUSED"]`).waitFor({ timeout: PAUSE_WAIT });
  const alertRow = page.locator('section[data-card="alerts"] table.alerts tr:has(code:text-is("BigFatherPipelinePaused"))');
  await alertRow.locator('[data-state="firing"]').waitFor({ timeout: PAUSE_WAIT });
  const row = (await cells(page.locator('section[data-card="alerts"] table.alerts'))).find((r) => r[2] === 'BigFatherPipelinePaused');
  seen.pausedAlert = { severity: row[0], state: row[1], rule: row[2], summary: row[3], runbook: await alertRow.locator('a[data-runbook]').getAttribute('href') };
  seen.pausedHeading = await page.textContent('section[data-card="alerts"] > h2');
  seen.pausedLink = await page.locator(`tr[data-pipeline="${PIPELINE}"] a[data-runbook]`).getAttribute('href');
  await snap(page, 'monitor-paused');
  expectNoErrors(page);

  // The status badge leads to its runbook.
  await page.click(`tr[data-pipeline="${PIPELINE}"] a[data-runbook]`);
  await page.waitForURL((u) => u.pathname.startsWith('/ui/runbooks/'));
  await page.locator('[data-actions] li').first().waitFor();
  seen.runbook = {
    path: new URL(page.url()).pathname,
    title: await page.textContent('main h1'),
    meaning: await page.textContent('[data-meaning]'),
    confirm: (await page.locator('[data-confirm] li').allInnerTexts()).length,
    actions: await page.locator('[data-actions] li').allInnerTexts(),
    rules: await page.locator('[data-rules] li').allInnerTexts(),
    navCurrent: await page.getAttribute('#nav a[aria-current="page"]', 'data-nav'),
  };
  await snap(page, 'runbook');
  expectNoErrors(page);

  // Back on the Monitor page, a resume brings the status back.
  await page.goBack();
  await page.waitForURL((u) => u.pathname === '/ui/monitor');
  const resumed = await page.evaluate(async (name) => (await fetch(`/api/v1/pipelines/${name}/resume?action=retry`, { method: 'POST' })).status, PIPELINE);
  if (resumed !== 200) fail(`resuming ${PIPELINE}: HTTP ${resumed}`);
  await page.locator(`tr[data-pipeline="${PIPELINE}"] [data-health]:not([data-health="PAUSED"])`).waitFor({ timeout: PAUSE_WAIT });
  seen.resumedStatus = await pipelineHealth(page).getAttribute('data-health');
  expectNoErrors(page);
}

async function runbooks(page) {
  await page.click('a[data-nav-runbooks]');
  await page.waitForURL((u) => u.pathname === '/ui/runbooks');
  await page.locator('table.runbooks tbody tr').first().waitFor();
  seen.runbookList = await page.locator('table.runbooks a[data-runbook]').evaluateAll((as) => as.map((a) => a.dataset.runbook));
  expectNoErrors(page);
}

async function overview(page) {
  await page.click('#nav a[data-nav="overview"]');
  await page.waitForURL((u) => u.pathname === '/ui/');
  for (const id of [`rate:${PIPELINE}`, `lag:${PIPELINE}`]) {
    await page.locator(`figure[data-chart="${id}"] .uplot canvas`).waitFor({ timeout: WAIT });
  }
  seen.sparks = await charts(page);
  await snap(page, 'monitor-overview');
  expectNoErrors(page);
}

await main(async (browser) => {
  const page = await newPage(browser);
  page.context().setDefaultTimeout(WAIT);
  const took = {};
  for (const [name, step] of [['history', history], ['monitor', monitor], ['runbooks', runbooks], ['overview', overview]]) {
    const start = Date.now();
    await step(page);
    took[name] = Date.now() - start;
  }
  emit({ ...seen, shots, took });
});
