// The catalog in the browser: add a workspace, watch it scan, see the cards, filter by stack
// (reflected in the URL), and open a project with the keyboard only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated as waitHydrated } from './helpers.mjs';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';


let browser;
let page;
let workspace;

function write(path, body) {
  mkdirSync(dirname(join(workspace, path)), { recursive: true });
  writeFileSync(join(workspace, path), body);
}

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'optimus-e2e-ws-'));
  write('alpha-cli/Cargo.toml', '[package]\nname = "alpha-cli"\nversion = "0.1.0"\n');
  write('alpha-cli/src/main.rs', 'fn main() {}\n');
  write('beta-web/package.json', JSON.stringify({ name: 'beta-web', scripts: { dev: 'vite' }, devDependencies: { vite: '^5' } }));
  write('gamma-api/go.mod', 'module example.com/gamma-api\n\ngo 1.22\n');
  ({ browser, page } = await launch());
});

after(async () => {
  await browser?.close();
  rmSync(workspace, { recursive: true, force: true });
});

async function hydrated() {
  await waitHydrated(page);
}

test('sign in (the dashboard test created the owner)', async () => {
  // Runs after 01-dashboard.test.mjs (node --test runs files in order with concurrency 1); set up
  // the owner if this file runs alone.
  await signIn(page);
});

test('adding a workspace scans it and shows a card per project', async () => {
  await hydrated();
  await page.keyboard.press('g');
  await page.keyboard.press('p');
  await page.waitForURL(/\/projects$/);
  await page.fill('[data-testid=add-workspace] input[name=path]', workspace);
  await page.click('[data-testid=add-workspace] button[type=submit]');
  await page.waitForSelector('[data-testid=workspace][data-state=done]', { timeout: 20_000 });
  await page.waitForSelector('[data-project="gamma-api"]', { timeout: 10_000 });
  const names = await page.$$eval('[data-project]', (els) => els.map((e) => e.getAttribute('data-project')));
  assert.deepEqual(names, ['alpha-cli', 'beta-web', 'gamma-api']);
  await page.screenshot({ path: `${ARTIFACTS}10-projects.png`, fullPage: true });
});

test('the stack filter narrows the grid and is kept in the URL', async () => {
  await page.selectOption('select[name=stack]', 'node');
  await page.waitForURL(/stack=node/);
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 1);
  assert.equal(await page.getAttribute('[data-project]', 'data-project'), 'beta-web');
  await page.reload();
  await page.waitForSelector('[data-project="beta-web"]');
  assert.equal(await page.$$eval('[data-project]', (els) => els.length), 1, 'the filter survives a reload');
  // The reloaded grid is server-rendered: a choice made before the page's chunks have hydrated
  // would be lost, as it would be for a user.
  await hydrated();
  await page.selectOption('select[name=stack]', '');
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 3);
});

test('a project opens with the keyboard only', async () => {
  await hydrated();
  // The stack menu still has focus from the test before, and keys typed into a menu are the
  // menu's: leave it first, as a user would.
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('/');
  await page.keyboard.type('gamma');
  try {
    await page.waitForFunction(
      () => document.querySelectorAll('[data-project]').length === 1
        && document.querySelector('[data-project="gamma-api"]') !== null,
    );
  } catch (e) {
    const state = await page.evaluate(() => ({
      url: location.href,
      active: document.activeElement?.outerHTML?.slice(0, 200),
      value: document.querySelector('input[name=search]')?.value,
      cards: document.querySelectorAll('[data-project]').length,
    }));
    console.error('DIAG', JSON.stringify(state));
    throw e;
  }
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=project-title]');
  assert.equal(await page.textContent('[data-testid=project-title]'), 'gamma-api');
  assert.match(await page.textContent('[data-testid=commands]'), /go test \.\/\.\.\./);
  await page.waitForSelector('[data-testid=activity] li');
  assert.match(await page.textContent('[data-testid=activity]'), /discovered/);
  await page.screenshot({ path: `${ARTIFACTS}11-project.png`, fullPage: true });
});

test('f favorites the selected project and the CSV export holds the filtered list', async () => {
  await page.goto(`${BASE}/projects`);
  await hydrated();
  await page.waitForSelector('[data-project="alpha-cli"]');
  await page.keyboard.press('f');
  await page.waitForSelector('[data-project="alpha-cli"] .star', { timeout: 10_000 });
  await page.selectOption('select[name=stack]', 'rust');
  await page.waitForURL(/stack=rust/);
  const href = await page.getAttribute('[data-testid=export-csv]', 'href');
  const res = await page.request.get(`${BASE}${href}`);
  assert.equal(res.status(), 200);
  const lines = (await res.text()).trim().split('\n');
  assert.equal(lines[0].split(',')[1], 'name');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[1]), ['alpha-cli']);
  assert.equal(lines[1].split(',')[6], 'true', 'the favorite shows in the export');
});

test('the dense list view is remembered across reloads', async () => {
  await page.goto(`${BASE}/projects`);
  await hydrated();
  await page.click('[data-testid=toggle-view]');
  await page.waitForSelector('.cards.dense');
  await page.reload();
  await hydrated();
  await page.waitForSelector('.cards.dense', { timeout: 5_000 });
  await page.screenshot({ path: `${ARTIFACTS}12-projects-list.png`, fullPage: true });
  await page.click('[data-testid=toggle-view]');
});

test('a project discovered by a scan started elsewhere appears live, without a reload', async () => {
  await page.goto(`${BASE}/projects`);
  await hydrated();
  await page.waitForSelector('[data-project="gamma-api"]');
  write('delta-svc/Gemfile', "gem 'rails'\n");
  const id = await page.getAttribute('[data-testid=workspace]', 'data-id');
  const res = await page.request.post(`${BASE}/api/v1/workspaces/scan`, { data: { id: Number(id) } });
  assert.equal(res.status(), 200);
  await page.waitForSelector('[data-project="delta-svc"]', { timeout: 10_000 });
});

test('a dependency added on the project page shows both ways', async () => {
  await page.goto(`${BASE}/projects?q=gamma`);
  await hydrated();
  await page.waitForFunction(() => document.querySelectorAll('[data-project]').length === 1);
  await page.click('[data-project="gamma-api"] h2 a');
  await page.waitForSelector('[data-testid=dependencies] select[name=add-dependency]');
  await hydrated();
  const value = await page.$eval('select[name=add-dependency]', (s) => [...s.options].find((o) => o.textContent === 'alpha-cli').value);
  await page.selectOption('select[name=add-dependency]', value);
  await page.waitForSelector('[data-testid=dependencies] a:has-text("alpha-cli")', { timeout: 10_000 });
  await page.waitForSelector('[data-testid=activity] :text("Depends on alpha-cli")', { timeout: 10_000 });
  await page.goto(`${BASE}/projects/${value}`);
  await page.waitForSelector('[data-testid=dependencies]');
  assert.match(await page.textContent('[data-testid=dependencies]'), /Used by:\s*gamma-api/);
});

test('the project page keeps its tab in the URL, across a reload', async () => {
  await hydrated();
  await page.click('[data-testid=project-tabs] [data-tab=services]');
  await page.waitForURL(/\?tab=services$/);
  await page.waitForSelector('[data-testid=no-services]');
  assert.equal(await page.locator('[data-testid=activity]').count(), 0, 'the overview is not drawn');
  await page.reload();
  await hydrated();
  await page.waitForSelector('[data-testid=no-services]');
  assert.equal(await page.getAttribute('[data-testid=project-tabs] [data-tab=services]', 'aria-selected'), 'true');
  await page.click('[data-testid=project-tabs] [data-tab=council]');
  await page.waitForSelector('[data-testid=no-deliberations]');
  await page.goBack();
  await page.waitForSelector('[data-testid=no-services]');
});
