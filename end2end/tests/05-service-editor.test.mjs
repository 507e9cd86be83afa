// Defining a service in the browser (with a memory limit and an alert), watching the alert
// arrive in the notification centre, copying and downloading its log, editing it while it runs
// (restart to apply), and a project environment with a secret.
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

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-edit-'));
  writeFileSync(join(folder, 'Makefile'), 'run:\n\ttrue\n');
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] }));
});

after(async () => {
  if (projectId) await page.request.post(`${BASE}/api/v1/services/stop_project`, { data: { project_id: projectId } }).catch(() => {});
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function hydrated() {
  await waitHydrated(page);
}

test('sign in and catalog an empty project', async () => {
  await signIn(page);
  const res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  projectId = (await res.json()).id;
});

test('a service defined in the form runs with its limit shown, and its alert reaches the bell', async () => {
  // Start from a read notification centre so the count below is this test's.
  await page.request.post(`${BASE}/api/v1/notifications/mark_read`, { data: {} });
  await page.goto(`${BASE}/projects/${projectId}?tab=services`);
  await hydrated();
  await page.click('[data-testid=add-service]');
  const form = page.locator('[data-testid=service-editor]');
  // A bad field is named before anything is sent.
  await form.locator('input[name=name]').fill('echoer');
  await form.locator('input[name=command]').fill('i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.2; done');
  await form.locator('select[name=port_mode]').selectOption('none');
  await form.locator('input[name=memory_mb]').fill('lots');
  await page.click('[data-testid=save-service]');
  await page.waitForSelector('[data-testid=editor-error]:has-text("memory_mb")');
  await form.locator('input[name=memory_mb]').fill('256');
  await form.locator('textarea[name=alerts]').fill('memory > 0 for 0');
  await page.click('[data-testid=save-service]');
  await page.waitForSelector('[data-service=echoer][data-state=stopped]', { timeout: 10_000 });
  assert.equal(await page.locator('[data-testid=service-editor]').count(), 0, 'the form closes after a save');

  await page.keyboard.press('s');
  await page.waitForSelector('[data-service=echoer][data-state=ready]', { timeout: 15_000 });
  const limits = await page.textContent('[data-service=echoer] [data-testid=limits]');
  assert.match(limits, /256 MiB: (cgroup v2|cgroup v1|rlimit)/);

  // The first sample is above 0 MiB: the alert fires and the bell counts it, live.
  await page.waitForSelector('[data-testid=unread-count]', { timeout: 15_000 });
  await page.click('[data-testid=notifications]');
  await page.waitForSelector('[data-testid=notification-panel] [data-kind=alert]:has-text("memory above 0 MiB")');
  await page.screenshot({ path: `${ARTIFACTS}30-notifications.png`, fullPage: true });
  await page.click('[data-testid=mark-all-read]');
  await page.waitForSelector('[data-testid=unread-count]', { state: 'detached', timeout: 10_000 });
  await page.click('[data-testid=notifications]');
});

test('the log can be copied and downloaded', async () => {
  await page.waitForFunction(() => /line \d+/.test(document.querySelector('[data-testid=log]')?.textContent ?? ''), null, { timeout: 10_000 });
  await page.click('[data-testid=copy-log]');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(copied, /line \d+/);
  const href = await page.getAttribute('[data-testid=download-log]', 'href');
  const res = await page.request.get(`${BASE}${href}`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-disposition'], /attachment; filename="echoer-run-\d+\.log"/);
  assert.match(await res.text(), /stdout line \d+/);
});

test('editing a running service asks for a restart to apply', async () => {
  await page.click('[data-service=echoer] [data-testid=edit-service]');
  const form = page.locator('[data-testid=service-editor]');
  assert.equal(await form.locator('input[name=memory_mb]').inputValue(), '256');
  await form.locator('input[name=command]').fill('while true; do echo edited; sleep 0.2; done');
  await page.click('[data-testid=save-service]');
  await page.waitForSelector('[data-service=echoer] [data-testid=pending-changes]', { timeout: 10_000 });
  // The badge shows the difference a restart would make.
  await page.click('[data-service=echoer] [data-testid=pending-changes]');
  await page.waitForSelector('[data-service=echoer] [data-testid=change-list]:has-text("edited")');
  assert.match(await page.textContent('[data-service=echoer] [data-testid=change-list]'), /command/);
});

test('an environment holds plain and secret variables, masked and exported', async () => {
  // The tab is a link: the URL keeps it, and the services tab's panels go away.
  await page.click('[data-testid=project-tabs] [data-tab=environments]');
  await page.waitForURL(/tab=environments/);
  const panel = page.locator('[data-testid=environments]');
  await panel.waitFor();
  assert.equal(await page.locator('[data-testid=services]').count(), 0);
  await panel.locator('input[name=environment-name]').fill('development');
  await panel.locator('input[name=environment-name]').press('Enter');
  await page.waitForSelector('select[name=environment] option:has-text("development (active)")', { state: 'attached' });
  const add = page.locator('[data-testid=add-var]');
  await add.locator('input[name=var-key]').fill('GREETING');
  await add.locator('input[name=var-value]').fill('hello');
  await add.locator('input[name=var-key]').press('Enter');
  await page.waitForSelector('[data-testid=env-vars] tr[data-var=GREETING]:has-text("hello")');
  await add.locator('input[name=var-key]').fill('API_TOKEN');
  await add.locator('input[name=var-value]').fill('s3cr3t-value');
  await add.locator('input[name=var-secret]').check();
  await add.locator('input[name=var-key]').press('Enter');
  const secretRow = page.locator('[data-testid=env-vars] tr[data-var=API_TOKEN]');
  await secretRow.waitFor();
  assert.match(await secretRow.textContent(), /••••••/);
  assert.doesNotMatch(await page.textContent('body'), /s3cr3t-value/);
  await page.click('[data-testid=export-dotenv]');
  await page.waitForSelector('[data-testid=dotenv]');
  assert.match(await page.inputValue('[data-testid=dotenv]'), /GREETING=hello/);
  await page.screenshot({ path: `${ARTIFACTS}31-environments.png`, fullPage: true });
  // `x` stops every service from any tab; the services tab then shows it.
  await page.click('h1');
  await page.keyboard.press('x');
  await page.click('[data-testid=project-tabs] [data-tab=services]');
  await page.waitForSelector('[data-service=echoer][data-state=stopped]', { timeout: 15_000 });
});
