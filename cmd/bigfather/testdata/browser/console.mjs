// The console's acceptance test in headless Chromium (console_browser_test.go runs it against `bigfather up
// --demo`): every page renders the demo's real data; the message browser finds records by a CEL filter on the
// value and by a header; a rejected record is reached from the pipeline page; pause and resume work from there;
// the SQL page runs a query and draws a chart; the language switch and the dark theme change the page. One
// screenshot per page goes to SHOT_DIR. At the end it prints one JSON line of what it saw, for the Go test to
// check against the platform.
//
// Environment: BASE_URL (the console's origin), HEADER_PARTITION (the partition of game.events holding the
// records the Go test produced with header source=browser-test).
const { main, newPage, expectText, expectNoErrors, shot, emit, fail } = await import(process.env.BIGFATHER_BROWSER_LIB);

const TOPIC = 'game.events';
const PIPELINE = 'game-events';
const TABLES = ['staging.game_events', 'staging.purchases', 'staging.game_events_rejected'];
const EVENT_TYPES = ['item_acquire', 'level_up', 'purchase', 'session_end', 'session_start'];
const SQL = 'select event_type, count(*) as n from staging.game_events group by 1 order by 1';
const HEADER_PARTITION = process.env.HEADER_PARTITION;
// WAIT bounds each wait for a page to show something (ms): pages that query the tables share two cores with
// the platform and its demo traffic.
const WAIT = 20_000;
if (!HEADER_PARTITION) fail('HEADER_PARTITION must be set');

/** card is the section.card titled title (exactly). */
function card(page, title) {
  return page.locator(`section.card:has(> h2:text-is(${JSON.stringify(title)}))`);
}

/** cells returns the text of every cell of the rows of a locator's tables, row by row. */
async function cells(loc) {
  return loc.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
}

/** nav clicks a navigation link and waits for the page's heading. */
async function nav(page, key, path, heading) {
  await page.click(`#nav a[data-nav="${key}"]`);
  await page.waitForURL((u) => u.pathname === path);
  await expectText(page, 'main h1', heading, WAIT);
}

/** mark marks what selector shows now, so that waitFresh can tell the next result from it. */
async function mark(page, selector) {
  await page.locator(selector).evaluateAll((els) => els.forEach((el) => { el.dataset.stale = '1'; }));
}

async function waitFresh(page, selector, timeout = WAIT) {
  await page.locator(`${selector}:not([data-stale])`).first().waitFor({ timeout });
}

const seen = {};
const shots = [];
async function snap(page, name) {
  shots.push(await shot(page, name));
}

async function overview(page) {
  await page.goto('/ui/');
  await expectText(page, 'main h1', 'Overview', WAIT);
  const nodes = [`topic:${TOPIC}`, `pipeline:${PIPELINE}`, ...TABLES.map((t) => `table:${t}`)];
  for (const id of nodes) {
    await page.locator(`main svg [data-node="${id}"]`).waitFor();
  }
  seen.overviewPipelineNode = await page.locator(`[data-node="pipeline:${PIPELINE}"]`).textContent();
  seen.overviewTopicNode = await page.locator(`[data-node="topic:${TOPIC}"]`).textContent();
  seen.overviewTableNode = await page.locator(`[data-node="table:${TABLES[0]}"]`).textContent();
  seen.overviewEdges = await page.locator('main svg path.edge').count();
  const rows = await cells(card(page, 'Pipelines'));
  if (rows.length !== 1 || rows[0][0] !== PIPELINE) fail(`overview: pipelines table rows ${JSON.stringify(rows)}, want one row for ${PIPELINE}`);
  await card(page, 'Pipelines').locator('[data-status="running"]').waitFor();
  seen.overviewStatus = rows[0][1];
  seen.nav = await page.locator('#nav a').allInnerTexts();
  await snap(page, 'overview');
  expectNoErrors(page);
}

async function topics(page) {
  await nav(page, 'topics', '/ui/topics', 'Topics');
  const topicsCard = card(page, 'Topics');
  await expectText(page, 'main section.card a', TOPIC, WAIT);
  const rows = await cells(topicsCard);
  const row = rows.find((r) => r[0] === TOPIC);
  if (!row) fail(`topics: no row for ${TOPIC} in ${JSON.stringify(rows)}`);
  seen.topicRow = row;
  await expectText(page, 'main section.card td', `bigfather-${PIPELINE}`, WAIT);
  seen.groupRows = await cells(card(page, 'Consumer groups'));
  await snap(page, 'topics');
  expectNoErrors(page);

  // The browser: newest records first, then a CEL filter over the JSON value.
  await page.click(`main a:text-is("${TOPIC}")`);
  await page.waitForURL((u) => u.pathname === `/ui/topics/${TOPIC}`);
  await page.locator('#msg-count').waitFor();
  seen.topicPartitions = (await cells(card(page, 'Partitions'))).length;
  await mark(page, '#msg-count');
  await page.fill('#msg-filter', 'value.event_type == "purchase"');
  await page.click('#msg-go');
  await waitFresh(page, '#msg-count');
  const purchases = await page.locator('#msg-result code[data-offset]').allInnerTexts();
  if (purchases.length === 0) fail(`browser: the filter value.event_type == "purchase" found nothing: ${await page.textContent('#msg-count')}`);
  const others = purchases.filter((v) => {
    try {
      return JSON.parse(v).event_type !== 'purchase';
    } catch {
      return true;
    }
  });
  if (others.length) fail(`browser: the purchase filter shows ${others.length} other record(s), such as ${others[0]}`);
  seen.purchases = purchases.length;
  seen.purchaseCount = await page.textContent('#msg-count');
  for (const id of ['#msg-csv', '#msg-json', '#msg-tail']) await page.locator(id).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#msg-csv')]);
  const csvText = await streamText(await download.createReadStream());
  const csvLines = csvText.trimEnd().split('\n');
  if (csvLines[0] !== 'partition,offset,timestamp,key,value,headers' || csvLines.length !== purchases.length + 1) {
    fail(`browser: the CSV export has ${csvLines.length} line(s) starting ${JSON.stringify(csvLines[0])}, want a header and ${purchases.length} rows`);
  }
  seen.csvFile = download.suggestedFilename();
  await snap(page, 'topic-browser');

  // A header filter in the partition holding the test's records.
  await page.selectOption('#msg-partition', HEADER_PARTITION);
  await mark(page, '#msg-count');
  await page.fill('#msg-filter', 'headers["source"] == "browser-test"');
  await page.press('#msg-filter', 'Enter');
  await waitFresh(page, '#msg-count');
  const found = await cells(page.locator('#msg-result'));
  seen.headerRows = found.map((r) => ({ partition: r[0], offset: r[1], headers: r[4], value: r[5] }));
  await snap(page, 'topic-browser-header');
  expectNoErrors(page);
}

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function pipelines(page) {
  await nav(page, 'pipelines', '/ui/pipelines', 'Pipelines');
  await card(page, 'Pipelines').locator('[data-status="running"]').waitFor();
  seen.pipelineRows = await cells(card(page, 'Pipelines'));
  await snap(page, 'pipelines');

  await page.click(`main a:text-is("${PIPELINE}")`);
  await page.waitForURL((u) => u.pathname === `/ui/pipelines/${PIPELINE}`);
  await expectText(page, 'main h1', PIPELINE, WAIT);
  await page.locator('main h1 + [data-status="running"]').waitFor();
  await page.locator('main .uplot canvas').first().waitFor();
  seen.charts = await page.locator('main .uplot').count();
  seen.pipelinePartitions = await cells(card(page, 'Partitions'));
  await page.locator('[data-reason]').first().waitFor();
  // The cards load independently; under load the commits can arrive after the rejected records.
  await card(page, 'Recent commits').locator('tbody tr').first().waitFor({ timeout: WAIT });
  seen.commits = (await cells(card(page, 'Recent commits'))).map((r) => ({ table: r[1], snapshot: r[5] }));
  await page.locator('[data-completeness]').waitFor();
  seen.completeness = await page.locator('[data-completeness] dd').allInnerTexts();
  await snap(page, 'pipeline');
  expectNoErrors(page);

  // Drill down from a rejected reason to its raw records.
  const link = page.locator('[data-reason]').first();
  const reason = await link.getAttribute('data-reason');
  await link.click();
  await page.waitForURL((u) => u.pathname === `/ui/pipelines/${PIPELINE}/rejected` && u.searchParams.get('reason') === reason);
  await expectText(page, 'main h1', reason, WAIT);
  const rejected = card(page, 'Records');
  await rejected.locator('tbody tr').first().waitFor();
  const rows = await cells(rejected);
  seen.rejected = { reason, url: page.url(), rows: rows.map((r) => ({ partition: r[0], offset: r[1], reason: r[3], value: r[6] })) };
  await snap(page, 'rejected');
  expectNoErrors(page);

  // Pause and resume from the pipeline page.
  await page.click(`main a:text-is("${PIPELINE}")`);
  await page.waitForURL((u) => u.pathname === `/ui/pipelines/${PIPELINE}`);
  await page.click('[data-action="pause"]');
  await page.locator('main h1 + [data-status="paused"]').waitFor();
  seen.pausedState = await apiState(page);
  await page.locator('[data-action="resume"]').waitFor();
  await snap(page, 'pipeline-paused');
  await page.click('[data-action="resume"]');
  // Running again from its next commit (every 10 s in the demo).
  await page.locator('main h1 + [data-status="running"]').waitFor({ timeout: 30_000 });
  await page.locator('[data-action="pause"]').waitFor();
  seen.resumedState = await apiState(page);
  expectNoErrors(page);
}

async function apiState(page) {
  return page.evaluate(async (name) => (await (await fetch(`/api/v1/pipelines/${name}`)).json()).state, PIPELINE);
}

async function tables(page) {
  await nav(page, 'tables', '/ui/tables', 'Tables');
  // The heading shows before the list's request answers: wait for the rows.
  await card(page, 'Tables').locator('tbody tr').first().waitFor({ timeout: WAIT });
  const rows = await cells(card(page, 'Tables'));
  seen.tableRows = rows.map((r) => ({ name: r[0], rows: r[1], files: r[2], snapshots: r[4] }));
  await snap(page, 'tables');

  await page.click(`main a:text-is("${TABLES[0]}")`);
  await page.waitForURL((u) => u.pathname === `/ui/tables/${TABLES[0]}`);
  await expectText(page, 'main h1', TABLES[0], WAIT);
  const schema = await cells(card(page, 'Schema'));
  seen.schema = schema.map((r) => ({ id: r[0], name: r[1], type: r[2], required: r[3] }));
  seen.snapshots = (await cells(card(page, 'Snapshots'))).map((r) => ({ snapshot: r[1], operation: r[2], offsets: r[5] }));
  seen.tableStatRows = await page.textContent('[data-stat="rows"]');
  await card(page, 'Data preview').locator('tbody tr').first().waitFor();
  seen.preview = {
    columns: await card(page, 'Data preview').locator('thead th').allInnerTexts(),
    rows: (await cells(card(page, 'Data preview'))).length,
  };
  await snap(page, 'table');
  expectNoErrors(page);
}

async function sql(page) {
  await nav(page, 'sql', '/ui/sql', 'SQL');
  await page.fill('#sql-editor', SQL);
  await page.click('#sql-run');
  await page.locator('#sql-result tbody tr').first().waitFor();
  const rows = await cells(page.locator('#sql-result'));
  seen.sqlColumns = await page.locator('#sql-result thead th').allInnerTexts();
  seen.sqlRows = rows;
  const types = rows.map((r) => r[0]);
  if (JSON.stringify(types) !== JSON.stringify(EVENT_TYPES)) fail(`sql: event types ${JSON.stringify(types)}, want ${JSON.stringify(EVENT_TYPES)}`);
  await page.locator('#sql-csv').waitFor();
  await page.click('#sql-bar');
  await page.locator('#sql-result .uplot canvas').first().waitFor();
  seen.sqlChart = await page.locator('#sql-result .uplot').count();
  await expectText(page, 'section.card:has(> h2:text-is("History")) code', SQL, WAIT);
  await snap(page, 'sql');
  expectNoErrors(page);
}

async function audit(page) {
  await nav(page, 'audit', '/ui/audit', 'Audit log');
  await card(page, 'Audit log').locator('tbody tr').first().waitFor();
  seen.audit = (await cells(card(page, 'Audit log'))).map((r) => ({ actor: r[1], action: r[2], path: r[3], outcome: r[5] }));
  await snap(page, 'audit');
  expectNoErrors(page);
}

async function korean(page) {
  await page.goto('/ui/');
  await page.locator(`main svg [data-node="pipeline:${PIPELINE}"]`).waitFor();
  await page.selectOption('#lang', 'ko');
  await expectText(page, '#nav a[data-nav="overview"]', '개요');
  await expectText(page, 'main h1', '개요');
  await page.locator(`main svg [data-node="pipeline:${PIPELINE}"]`).waitFor();
  seen.navKorean = await page.locator('#nav a').allInnerTexts();
  seen.htmlLang = await page.getAttribute('html', 'lang');
  await snap(page, 'overview-ko');
  await page.selectOption('#lang', 'en');
  await expectText(page, '#nav a[data-nav="overview"]', 'Overview');
  seen.navEnglish = await page.locator('#nav a').allInnerTexts();
  expectNoErrors(page);
}

async function dark(browser) {
  const page = await newPage(browser, { colorScheme: 'dark' });
  page.context().setDefaultTimeout(WAIT);
  await page.goto('/ui/');
  await page.locator(`main svg [data-node="pipeline:${PIPELINE}"]`).waitFor();
  seen.theme = await page.getAttribute('html', 'data-theme');
  seen.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await snap(page, 'overview-dark');
  // The theme button switches to light and back.
  await page.click('#theme');
  seen.themeToggled = await page.getAttribute('html', 'data-theme');
  seen.lightBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.click('#theme');
  expectNoErrors(page);
  await page.context().close();
}

await main(async (browser) => {
  const page = await newPage(browser);
  page.context().setDefaultTimeout(WAIT);
  const took = {};
  for (const [name, step] of [['overview', overview], ['topics', topics], ['pipelines', pipelines], ['tables', tables], ['sql', sql], ['audit', audit], ['korean', korean]]) {
    const start = Date.now();
    await step(page);
    took[name] = Date.now() - start;
  }
  const start = Date.now();
  await dark(browser);
  took.dark = Date.now() - start;
  emit({ ...seen, shots, took });
});
