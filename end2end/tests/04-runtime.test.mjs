// The runtime in the browser: set a project's services up from its Procfile, start them with
// the keyboard, watch the state turn ready and live log lines arrive, stop them with the keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated as waitHydrated } from './helpers.mjs';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


let browser;
let page;
let folder;
let projectId;
let projectName;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-run-'));
  writeFileSync(join(folder, 'Procfile'), "ticker: i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep 0.3; done\n");
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  // Never leave the ticker running, whatever happened above.
  if (projectId) await page.request.post(`${BASE}/api/v1/services/stop_project`, { data: { project_id: projectId } }).catch(() => {});
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function hydrated() {
  await waitHydrated(page);
}

test('sign in and catalog the project', async () => {
  await signIn(page);
  const res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  ({ id: projectId, name: projectName } = await res.json());
});

test('services set up from the Procfile start with `s`, turn ready and stream their log', async () => {
  await page.goto(`${BASE}/projects/${projectId}?tab=services`);
  await hydrated();
  await page.click('[data-testid=import-services]');
  await page.waitForSelector('[data-service=ticker][data-state=stopped]');
  await page.keyboard.press('s');
  await page.waitForSelector('[data-service=ticker][data-state=ready]', { timeout: 15_000 });
  // Live lines arrive over the WebSocket without a reload.
  await page.waitForFunction(() => /tick \d+/.test(document.querySelector('[data-testid=log]')?.textContent ?? ''), null, { timeout: 10_000 });
  const count = async () => page.$$eval('[data-testid=log] .log-line', (els) => els.length);
  const first = await count();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=log] .log-line').length > n + 2, first, { timeout: 10_000 });
  // Charts are drawn by ECharts (served from Optimus itself) and live samples keep arriving.
  await page.waitForSelector('.charts [data-testid=chart] canvas', { timeout: 15_000 });
  const samples = async () => Number((await page.textContent('[data-testid=sample-count]')).split(' ')[0]);
  const before = await samples();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=sample-count]').textContent.split(' ')[0]) > n, before, { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}20-runtime.png`, fullPage: true });
});

test('the dashboard shows the machine and the running service live', async () => {
  await page.goto(`${BASE}/`);
  await hydrated();
  await page.waitForFunction(() => /% of \d+ cores/.test(document.querySelector('[data-testid=host-cpu]')?.textContent ?? ''), null, { timeout: 15_000 });
  // Drawn as inline SVG (no chart library on the first page): a line per running service.
  await page.waitForSelector('#services-mem-chart svg polyline', { timeout: 15_000 });
  assert.match(await page.textContent('#services-mem-chart .legend'), /ticker/);
  await page.screenshot({ path: `${ARTIFACTS}21-dashboard-host.png`, fullPage: true });
  await page.goto(`${BASE}/projects/${projectId}?tab=services`);
  await hydrated();
  await page.waitForSelector('[data-service=ticker][data-state=ready]');
});

test('the project card shows its services running and follows a stop and a start live', async () => {
  await page.goto(`${BASE}/projects?q=${encodeURIComponent(projectName)}`);
  await hydrated();
  const card = `.project-card:has(a[href="/projects/${projectId}"])`;
  const summary = (text) => `${card} [data-testid=runtime-summary]:has-text("${text}")`;
  await page.waitForSelector(summary('1/1 running'), { timeout: 10_000 });
  assert.equal(await page.locator(`${card} [data-testid=crash-loop]`).count(), 0);
  await page.screenshot({ path: `${ARTIFACTS}22-project-card-running.png` });
  // Stopped and started elsewhere (the API): the card follows without a reload.
  const stop = await page.request.post(`${BASE}/api/v1/services/stop_project`, { data: { project_id: projectId } });
  assert.equal(stop.status(), 200, await stop.text());
  await page.waitForSelector(summary('0/1 running'), { timeout: 15_000 });
  const start = await page.request.post(`${BASE}/api/v1/services/start_project`, { data: { project_id: projectId } });
  assert.equal(start.status(), 200, await start.text());
  await page.waitForSelector(summary('1/1 running'), { timeout: 15_000 });
  await page.goto(`${BASE}/projects/${projectId}?tab=services`);
  await hydrated();
  await page.waitForSelector('[data-service=ticker][data-state=ready]', { timeout: 15_000 });
});

test('`x` stops every service and the state shows it', async () => {
  await page.keyboard.press('x');
  await page.waitForSelector('[data-service=ticker][data-state=stopped]', { timeout: 15_000 });
  const res = await page.request.post(`${BASE}/api/v1/services/list`, { data: { project_id: projectId } });
  const [svc] = await res.json();
  assert.equal(svc.state, 'stopped');
  assert.equal(svc.last_run.reason, 'stopped by a user');
});
