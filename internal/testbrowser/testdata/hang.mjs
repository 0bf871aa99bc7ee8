// A script that never finishes, for the harness's timeout (testbrowser_test.go).
await import(process.env.BIGFATHER_BROWSER_LIB);
setInterval(() => {}, 1000);
