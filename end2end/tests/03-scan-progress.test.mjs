// A large workspace in the browser: the scan's progress bar and live counts while it runs, then
// paging through more projects than one page holds, and sorting. Runs after 02-catalog.test.mjs;
// its projects are named `zz-bulk-…` so they sort after the ones the earlier files look for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated as waitHydrated } from './helpers.mjs';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BULK = 3000;

let browser;
let page;
let workspace;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'optimus-e2e-bulk-'));
  for (let i = 0; i < BULK; i++) {
    const name = `zz-bulk-${String(i).padStart(4, '0')}`;
    mkdirSync(join(workspace, name));
    writeFileSync(join(workspace, name, 'package.json'), JSON.stringify({ name, scripts: { start: 'node index.js' } }));
  }
  ({ browser, page } = await launch());
});

after(async () => {
  await browser?.close();
  rmSync(workspace, { recursive: true, force: true });
});

async function hydrated() {
  await waitHydrated(page);
}

test('sign in', async () => {
  await signIn(page);
});

test('a running scan shows a progress bar and live counts, then settles', async () => {
  await page.goto(`${BASE}/projects?q=zz-bulk`);
  await hydrated();
  await page.fill('[data-testid=add-workspace] input[name=path]', workspace);
  await page.click('[data-testid=add-workspace] button[type=submit]');
  const running = `[data-testid=workspace][data-state=running]:has(code:text-is("${workspace}"))`;
  await page.waitForSelector(`${running} progress.scan-progress`, { timeout: 10_000 });
  // Counts arrive over the event stream while the scan runs.
  await page.waitForFunction(
    (path) => [...document.querySelectorAll('[data-testid=workspace]')]
      .filter((w) => w.querySelector('code')?.textContent === path)
      .some((w) => /so far/.test(w.querySelector('[data-testid=scan-counts]')?.textContent ?? '')),
    workspace,
    { timeout: 20_000 },
  );
  await page.screenshot({ path: `${ARTIFACTS}13-scan-progress.png` });
  const done = `[data-testid=workspace][data-state=done]:has(code:text-is("${workspace}"))`;
  await page.waitForSelector(done, { timeout: 60_000 });
  assert.equal(await page.$$eval(`${done} progress`, (els) => els.length), 0, 'the bar goes away');
  assert.match(await page.textContent(`${done} [data-testid=scan-counts]`), new RegExp(`^${BULK} projects`));
});

test('Load more pages through the list without gaps or repeats, and j reaches the new cards', async () => {
  await page.goto(`${BASE}/projects?q=zz-bulk`);
  await hydrated();
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 100);
  await page.waitForFunction((n) => document.querySelector('[data-testid=list-count]')?.textContent.includes(`of ${n}`), BULK);
  await page.click('[data-testid=load-more]');
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 200);
  const names = await page.$$eval('[data-project]', (els) => els.map((e) => e.getAttribute('data-project')));
  const expected = Array.from({ length: 200 }, (_, i) => `zz-bulk-${String(i).padStart(4, '0')}`);
  assert.deepEqual(names, expected);
  for (let i = 0; i < 120; i++) await page.keyboard.press('j');
  assert.equal(await page.getAttribute('.project-card.selected', 'data-project'), 'zz-bulk-0120');
});

test('sorting is kept in the URL and reorders the list: missing projects first by status', async () => {
  rmSync(join(workspace, 'zz-bulk-0005'), { recursive: true });
  const id = await page.getAttribute(`[data-testid=workspace]:has(code:text-is("${workspace}"))`, 'data-id');
  assert.equal((await page.request.post(`${BASE}/api/v1/workspaces/scan`, { data: { id: Number(id) } })).status(), 200);
  await page.goto(`${BASE}/projects?q=zz-bulk-000`);
  await hydrated();
  await page.waitForSelector(`[data-testid=workspace][data-state=done]:has(code:text-is("${workspace}"))`, { timeout: 30_000 });
  await page.selectOption('select[name=sort]', 'status');
  await page.waitForURL(/sort=status/);
  await page.reload();
  await hydrated();
  await page.waitForSelector('select[name=sort]');
  assert.equal(await page.$eval('select[name=sort]', (s) => s.value), 'status');
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 10);
  const names = await page.$$eval('[data-project]', (els) => els.map((e) => e.getAttribute('data-project')));
  assert.deepEqual(names, ['zz-bulk-0005', ...[0, 1, 2, 3, 4, 6, 7, 8, 9].map((i) => `zz-bulk-000${i}`)]);
  await page.selectOption('select[name=status]', 'missing');
  await page.waitForURL(/status=missing/);
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 1);
});
