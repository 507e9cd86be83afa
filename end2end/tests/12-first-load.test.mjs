// The first-load budget: what a browser with an empty cache downloads to show and hydrate a page
// (html, css, js, wasm and any script the page adds, as transferred: compressed) stays within
// 250 KB. API answers (the page's data) and the live WebSocket are counted apart and not in the
// budget. Measured for a visitor's first page (/login) and a signed-in user's (/, /projects);
// the figures are printed and written to end2end/artifacts/first-load.json.
//
// Not there yet (issue 17): each page has a ceiling just above what it loads today, so the test
// fails on any growth; lower a ceiling whenever a page gets smaller, down to BUDGET.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { BASE, ARTIFACTS, OWNER, watch, hydrated } from './helpers.mjs';

const BUDGET = 250_000;
// Measured 2026-12-07 with the pages split (/login 388 KB, / 658 KB, /projects 830 KB; all three
// were 1.78 MB or more before, / 2.12 MB with ECharts), plus 4 %.
const CEILING = { '/login': 405_000, '/': 685_000, '/projects': 865_000 };
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
const figures = {};

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  await browser?.close();
  writeFileSync(`${ARTIFACTS}first-load.json`, `${JSON.stringify(figures, null, 2)}\n`);
});

/** Opens `path` in a new context (empty cache), signed in or not, and returns what it fetched. */
async function firstLoad(path, { signedIn }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    // An owner exists (a new install would send the visitor to /setup); a 409 when it did.
    await context.request.post(`${BASE}/api/v1/auth/setup`, { data: OWNER });
    if (!signedIn) await context.clearCookies();
    if (signedIn) {
      const res = await context.request.post(`${BASE}/api/v1/auth/login`, { data: OWNER });
      assert.equal(res.status(), 200, 'signing in through the API');
    }
    const page = watch(await context.newPage());
    const finished = [];
    page.on('requestfinished', (request) => finished.push(request));
    const started = Date.now();
    const response = await page.goto(`${BASE}${path}`);
    assert.equal(response.status(), 200, `${path} answers 200`);
    await hydrated(page);
    const hydratedMs = Date.now() - started;
    await page.waitForLoadState('networkidle');
    const files = [];
    const data = [];
    for (const request of finished) {
      const { responseBodySize } = await request.sizes();
      const url = new URL(request.url());
      const row = { path: url.pathname, type: request.resourceType(), bytes: responseBodySize };
      (url.pathname.startsWith('/api/') ? data : files).push(row);
    }
    const sum = (rows) => rows.reduce((n, r) => n + r.bytes, 0);
    const result = { total: sum(files), data: sum(data), hydrated_ms: hydratedMs, files, api_calls: data.length };
    figures[path] = result;
    console.log(`${path}: ${result.total} B for ${files.length} files (html+css+js+wasm, compressed), ` +
      `${result.data} B of data in ${data.length} API calls; hydrated after ${hydratedMs} ms`);
    files.sort((a, b) => b.bytes - a.bytes);
    for (const f of files.slice(0, 8)) console.log(`  ${String(f.bytes).padStart(9)}  ${f.type.padEnd(10)} ${f.path}`);
    if (files.length > 8) console.log(`  … and ${files.length - 8} more files`);
    return result;
  } finally {
    await context.close();
  }
}

function withinBudget(path, result) {
  assert.ok(result.files.some((f) => f.path.endsWith('.wasm')), `${path}: the wasm was fetched`);
  assert.ok(result.files.some((f) => f.type === 'document'), `${path}: the page itself was counted`);
  const limit = Math.max(BUDGET, CEILING[path] ?? BUDGET);
  if (result.total > BUDGET) console.log(`${path}: ${result.total - BUDGET} B over the ${BUDGET} B budget`);
  assert.ok(
    result.total <= limit,
    `${path}: the first load is ${result.total} B, over its ${limit} B ceiling (budget ${BUDGET} B):\n` +
      result.files.slice(0, 8).map((f) => `  ${f.bytes} ${f.path}`).join('\n'),
  );
}

test('a visitor\'s first page (/login) loads within its ceiling', async () => {
  withinBudget('/login', await firstLoad('/login', { signedIn: false }));
});

test('the signed-in dashboard (/) loads within its ceiling', async () => {
  withinBudget('/', await firstLoad('/', { signedIn: true }));
});

test('the project list (/projects) loads within its ceiling', async () => {
  withinBudget('/projects', await firstLoad('/projects', { signedIn: true }));
});
