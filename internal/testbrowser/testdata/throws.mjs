// A script whose page throws: expectNoErrors must fail it (testbrowser_test.go).
const { main, newPage, expectNoErrors } = await import(process.env.BIGFATHER_BROWSER_LIB);

await main(async (browser) => {
  const page = await newPage(browser);
  await page.goto('/throws');
  await page.waitForFunction(() => document.body.dataset.loaded === 'yes');
  expectNoErrors(page);
});
