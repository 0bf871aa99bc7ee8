// Smoke test of the harness (testbrowser_test.go): open the page at BASE_URL in a dark, German page, check the
// text its JavaScript sets, click the button, check the new text, take a screenshot and report what it saw.
// WANT overrides the text expected after the click, so that the Go test can see a failing expectation reported.
const { main, newPage, expectText, expectNoErrors, shot, emit } = await import(process.env.BIGFATHER_BROWSER_LIB);

await main(async (browser) => {
  const page = await newPage(browser, { colorScheme: 'dark', locale: 'de-DE' });
  await page.goto('/');
  const ready = await expectText(page, '#status', 'ready');
  await page.click('#go');
  const clicked = await expectText(page, '#status', process.env.WANT || 'clicked 1', 1000);
  const file = await shot(page, 'smoke');
  expectNoErrors(page);
  emit({ title: await page.title(), ready, clicked, env: await page.textContent('#env'), shot: file });
});
