// Helpers for the headless-browser scripts that internal/testbrowser (Go) runs with node. A script imports this
// module from the absolute path the harness puts in BIGFATHER_BROWSER_LIB:
//
//   const { main, newPage, expectText, shot, emit } = await import(process.env.BIGFATHER_BROWSER_LIB);
//   await main(async (browser) => {
//     const page = await newPage(browser, { colorScheme: 'dark' });
//     await page.goto('/ui');                    // relative to BASE_URL
//     await expectText(page, 'h1', 'Pipelines');
//     await shot(page, 'pipelines-dark');        // SHOT_DIR/pipelines-dark.png
//     emit({ title: await page.title() });       // one JSON line on stdout, for the Go test to read
//   });
//
// playwright-core is CommonJS installed outside the repo; ES modules ignore NODE_PATH, so it is loaded with a
// require rooted at the node_modules directory the harness passes in BIGFATHER_NODE_MODULES.

import { createRequire } from 'node:module';
import path from 'node:path';

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run this script through internal/testbrowser (testbrowser.Run)`);
  }
  return v;
}

const require = createRequire(path.join(env('BIGFATHER_NODE_MODULES'), 'bigfather-testbrowser.js'));

/** playwright is the playwright-core module, for what the helpers below do not cover (scripts cannot import it by name). */
export const playwright = require('playwright-core');
const { chromium } = playwright;

// The harness holds our stdin open while it waits for us. When it goes away (the test binary died or gave up)
// stdin ends and we exit; playwright then closes the browser it launched.
if (process.env.BIGFATHER_BROWSER_WATCH_STDIN === '1') {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(2));
  process.stdin.resume();
  process.stdin.unref?.();
}

/** TestFailure is an expectation that did not hold: main prints its message alone, without a stack. */
export class TestFailure extends Error {
  constructor(message) {
    super(message);
    this.name = 'TestFailure';
  }
}

/** fail stops the script with a test failure saying msg. */
export function fail(msg) {
  throw new TestFailure(msg);
}

/** emit prints value as one JSON line on stdout (testbrowser.Run returns stdout). */
export function emit(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** launch starts headless chromium: the executable in BIGFATHER_CHROMIUM, without the sandbox. */
export async function launch() {
  return chromium.launch({
    executablePath: env('BIGFATHER_CHROMIUM'),
    headless: true,
    args: ['--no-sandbox'],
  });
}

const pageErrors = new WeakMap();

/**
 * newPage opens a page in a fresh context (its own cookies and storage) with the given colour scheme ('light'
 * or 'dark'), locale and viewport. URLs are relative to BASE_URL when it is set. Uncaught exceptions and
 * console.error messages of the page are collected for expectNoErrors.
 */
export async function newPage(browser, { colorScheme = 'light', locale = 'en-US', viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({
    colorScheme,
    locale,
    viewport,
    baseURL: process.env.BASE_URL || undefined,
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(`uncaught ${err}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location()?.url || '';
    if (msg.text().startsWith('Failed to load resource')) {
      // The browser asks for /favicon.ico by itself; any other failed load is the page's own.
      if (new URL(url, 'http://x').pathname === '/favicon.ico') return;
      errors.push(`console.error: ${msg.text()}: ${url}`);
      return;
    }
    errors.push(`console.error: ${msg.text()}`);
  });
  pageErrors.set(page, errors);
  return page;
}

/** expectNoErrors fails when the page threw an uncaught exception or logged a console error. */
export function expectNoErrors(page) {
  const errors = pageErrors.get(page) || [];
  if (errors.length > 0) {
    fail(`page ${page.url()} had ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
  }
}

/**
 * shot saves a full-page PNG screenshot of page as SHOT_DIR/<name>.png and returns its path. name is a plain
 * file name (letters, digits, '.', '_', '-').
 */
export async function shot(page, name) {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    fail(`shot: name ${JSON.stringify(name)} must be a plain file name (letters, digits, '.', '_', '-')`);
  }
  const file = path.join(env('SHOT_DIR'), name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * expectText waits up to timeout ms until an element matching selector (a playwright selector: CSS, text=...,
 * role=...) has visible text containing text (a string) or matching it (a RegExp), and returns that text. When
 * none does in time it fails, saying what the matching elements hold instead (or that none matched).
 */
export async function expectText(page, selector, text, timeout = 5000) {
  const matches = text instanceof RegExp ? (s) => s.search(text) >= 0 : (s) => s.includes(text);
  const deadline = Date.now() + timeout;
  let seen = [];
  for (;;) {
    try {
      seen = await page.locator(selector).allInnerTexts();
    } catch (err) {
      fail(`expectText: selector ${selector}: ${err.message}`);
    }
    const hit = seen.find(matches);
    if (hit !== undefined) return hit;
    if (Date.now() >= deadline) break;
    await sleep(50);
  }
  const want = text instanceof RegExp ? `to match ${text}` : `to contain ${JSON.stringify(text)}`;
  const got = seen.length === 0
    ? 'no element matches the selector'
    : `its text is ${seen.map((s) => JSON.stringify(s)).join(', ')}`;
  fail(`expectText: wanted ${selector} ${want} within ${timeout} ms, but ${got} (page ${page.url()})`);
}

/**
 * main launches the browser, runs fn(browser) and closes the browser. When fn fails it screenshots every open
 * page into SHOT_DIR (failure-N.png), prints "FAIL: <message>" (a TestFailure) or the error's stack to stderr
 * and exits with status 1, which testbrowser.Run reports as the test's failure.
 */
export async function main(fn) {
  let browser;
  let code = 0;
  try {
    browser = await launch();
    await fn(browser);
  } catch (err) {
    code = 1;
    if (browser) await failureShots(browser);
    process.stderr.write(err instanceof TestFailure ? `FAIL: ${err.message}\n` : `ERROR: ${err?.stack || err}\n`);
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  process.exit(code);
}

async function failureShots(browser) {
  if (!process.env.SHOT_DIR) return;
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      n++;
      const file = path.join(process.env.SHOT_DIR, `failure-${n}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        process.stderr.write(`screenshot of ${page.url()} at failure: ${file}\n`);
      } catch {
        // The page may be what broke; the failure message matters more than its picture.
      }
    }
  }
}
