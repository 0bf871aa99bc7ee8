// The Schemas page in headless Chromium (schemas_browser_test.go runs it against `bigfather console` holding two
// versions of an Avro subject): an operator logs in (a console session); the page lists the subjects and its search narrows them;
// the subject's page shows its type, latest version, id and level, the pipelines and tables that use it, and
// the diff of v1 and v2 with the added lines highlighted and the verdict; a pasted incompatible schema is checked
// and its messages shown, then a compatible one; Register registers the compatible one through the session
// (CSRF token), and the diff then compares v2 and v3; the operator sets the subject's level. Screenshots go to SHOT_DIR. At the end it prints one JSON
// line of what it saw, for the Go test to check.
//
// Environment: BASE_URL (the console's origin), SUBJECT, LOGIN_NAME and LOGIN_PASSWORD (an operator), SEARCH
// (a search that keeps SUBJECT), INCOMPATIBLE and COMPATIBLE (schema texts).
const { main, newPage, expectText, expectNoErrors, shot, emit, fail } = await import(process.env.BIGFATHER_BROWSER_LIB);

const env = {};
for (const k of ['SUBJECT', 'LOGIN_NAME', 'LOGIN_PASSWORD', 'SEARCH', 'INCOMPATIBLE', 'COMPATIBLE']) {
  env[k] = process.env[k];
  if (!env[k]) fail(`${k} must be set`);
}
const WAIT = 20_000;

const seen = {};
const shots = [];
async function snap(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top, not mid-page
  shots.push(await shot(page, name));
}

/** cells returns the text of every cell of the rows of a locator's tables, row by row. */
async function cells(loc) {
  return loc.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
}

/** diff reads the diff card: the versions picked, the highlighted lines of each side, the counts and the verdict. */
async function diff(page) {
  await page.locator('[data-diff-verdict="compatible"], [data-diff-verdict="incompatible"], [data-diff-verdict="error"]').waitFor({ timeout: WAIT });
  const card = page.locator('section[data-card="diff"]');
  return {
    from: await page.inputValue('select[data-diff="from"]'),
    to: await page.inputValue('select[data-diff="to"]'),
    added: await card.locator('td[data-op="add"]').allTextContents(),
    removed: await card.locator('td[data-op="del"]').allTextContents(),
    addedClass: await card.locator('td[data-op="add"]').evaluateAll((tds) => tds.map((td) => getComputedStyle(td).backgroundColor)),
    same: await card.locator('td[data-op="same"]').count(),
    stat: await card.locator('[data-diff-stat]').getAttribute('data-diff-stat'),
    state: await card.locator('[data-diff-verdict]').getAttribute('data-diff-verdict'),
    verdict: (await card.locator('[data-diff-verdict] [data-compatible]').innerText()).trim(),
    url: new URL(page.url()).search,
  };
}

/** check pastes a schema, presses Check and reads the verdict and its messages. */
async function check(page, text) {
  await page.fill('textarea[data-check-schema]', text);
  await page.click('button[data-action="check"]');
  const result = page.locator('[data-check-result="compatible"], [data-check-result="incompatible"], [data-check-result="error"]');
  await result.waitFor({ timeout: WAIT });
  return {
    state: await result.getAttribute('data-check-result'),
    verdict: (await result.innerText()).split('\n')[0].trim(),
    messages: await result.locator('[data-messages] li').allInnerTexts(),
  };
}

await main(async (browser) => {
  const page = await newPage(browser);
  // Log in first (the session cookie goes to the page's context), so the app's first /api/v1/me succeeds.
  const login = await page.request.post('/api/v1/login', { data: { name: env.LOGIN_NAME, password: env.LOGIN_PASSWORD } });
  if (!login.ok()) fail(`POST /api/v1/login: ${login.status()} ${await login.text()}`);
  await page.goto('/ui/');
  await page.locator('#nav a[data-nav="schemas"]').waitFor({ timeout: WAIT });
  await page.click('#nav a[data-nav="schemas"]');
  await page.waitForURL((u) => u.pathname === '/ui/schemas');
  await expectText(page, 'main h1', 'Schemas', WAIT);
  await page.locator('tr[data-subject]').first().waitFor({ timeout: WAIT });
  seen.nav = await page.locator('#nav a').allInnerTexts();
  seen.navCurrent = await page.getAttribute('#nav a[aria-current="page"]', 'data-nav');
  seen.subjects = await cells(page.locator('main'));
  await page.fill('main input[type="search"]', env.SEARCH);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-subject]').length === n, 1);
  seen.searched = await page.locator('tr[data-subject]').evaluateAll((rows) => rows.map((r) => r.dataset.subject));
  seen.searchURL = new URL(page.url()).search;
  await snap(page, 'schemas');

  await page.click(`tr[data-subject="${env.SUBJECT}"] a`);
  await page.waitForURL((u) => u.pathname === `/ui/schemas/${encodeURIComponent(env.SUBJECT)}`);
  await expectText(page, 'main h1', env.SUBJECT, WAIT);
  await page.locator('[data-stat="type"]').waitFor({ timeout: WAIT });
  seen.overview = {
    type: await page.innerText('[data-stat="type"]'),
    version: await page.innerText('[data-stat="version"]'),
    id: await page.innerText('[data-stat="id"]'),
    level: await page.getAttribute('[data-stat="level"] [data-level]', 'data-level'),
    levelText: (await page.innerText('[data-stat="level"]')).replace(/\s+/g, ' ').trim(),
  };
  seen.usage = await cells(page.locator('section[data-card="usage"]'));
  seen.usageLinks = await page.locator('section[data-card="usage"] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  seen.schemaShown = await page.getAttribute('pre[data-schema]', 'data-schema');
  seen.schemaText = await page.textContent('pre[data-schema]');
  seen.diff = await diff(page);

  seen.incompatible = await check(page, env.INCOMPATIBLE);
  await snap(page, 'schemas-check');
  seen.compatible = await check(page, env.COMPATIBLE);

  // Register the compatible schema: the page reloads on the new latest version and compares it with v2.
  await page.click('button[data-action="register"]');
  await expectText(page, '[data-stat="version"]', '3', WAIT);
  seen.toast = await page.textContent('#toast');
  seen.diffAfter = await diff(page);
  await snap(page, 'schemas-subject');

  // An operator sets the subject's own level; the page reloads showing it as the subject's.
  await page.selectOption('[data-stat="level"] select', 'FULL_TRANSITIVE');
  await page.click('button[data-action="level"]');
  await page.locator('[data-stat="level"] [data-level="FULL_TRANSITIVE"]').waitFor({ timeout: WAIT });
  seen.levelAfter = {
    selected: await page.inputValue('[data-stat="level"] select'),
    text: (await page.innerText('[data-stat="level"]')).replace(/\s+/g, ' ').trim(),
    hint: await page.textContent('section[data-card="check"] .hint'),
  };
  expectNoErrors(page);
  emit({ ...seen, shots });
});
