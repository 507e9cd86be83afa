// What every end-to-end file shares: the server's address, the owner account, a Chromium
// launched as this machine needs it, sign-in, and a watch on the page that fails the test in
// which any page error (an uncaught exception, a wasm panic) or console error appears, unless
// the test said it expected that message.
import { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:8005';
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
export const OWNER = { username: 'owner', password: 'correct horse battery staple' };
mkdirSync(ARTIFACTS, { recursive: true });

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Messages a test announced; each is allowed until the end of that test.
let expected = [];
// What went wrong in the browser during the current test.
let problems = [];

/** Allows console or page errors matching `pattern` until the end of the current test. */
export function expectBrowserError(pattern) {
  expected.push(pattern);
}

function record(kind, text) {
  if (expected.some((p) => p.test(text))) return;
  problems.push(`${kind}: ${text}`);
  console.error(`${kind}:`, text);
}

/** Watches a page for errors; the test in which one happens fails. */
export function watch(page) {
  page.on('pageerror', (e) => record('page error', `${e.message}\n${e.stack ?? ''}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // A refused API call shows up as a failed resource load; the tests check those responses
    // themselves (a 403 for a viewer, a 400 for a bad field).
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    record('console error', text);
  });
  return page;
}

afterEach(() => {
  const found = problems;
  problems = [];
  expected = [];
  assert.deepEqual(found, [], `the browser reported errors:\n${found.join('\n')}`);
});

/** Launches Chromium and opens a watched page. */
export async function launch({ viewport = { width: 1280, height: 800 }, permissions } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
  const context = await browser.newContext({ viewport });
  if (permissions) await context.grantPermissions(permissions, { origin: BASE });
  const page = watch(await context.newPage());
  return { browser, context, page };
}

/** Waits until the page has hydrated. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

/** Signs in as the owner (setting the owner up when this file runs alone). */
export async function signIn(page, user = OWNER) {
  await page.request.post(`${BASE}/api/v1/auth/setup`, { data: OWNER });
  await page.goto(`${BASE}/login`);
  await hydrated(page);
  await page.fill('input[name=username]', user.username);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=dashboard-title]');
  // Signing in loads the dashboard anew: its server-rendered title shows before the shell's and
  // the page's chunks have arrived and hydrated (keyboard shortcuts work from then on).
  await hydrated(page);
}
