// Pipelines in the browser: define one on a project's page, run it with a parameter from the
// form built from its parameters, watch the DAG and a live log line arrive, approve its gate with
// the keyboard, see the run succeed and download its artifact; `g l` lists the run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated } from './helpers.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let browser;
let page;
let folder;
let projectId;
let runUrl;

const DEFINITION = JSON.stringify({
  name: 'release',
  parameters: [{ name: 'target', type: 'choice', choices: ['staging', 'production'], default: 'staging' }],
  steps: [
    {
      name: 'build',
      command: 'mkdir -p dist && printf "built for %s" "$PARAM_TARGET" > dist/app.txt && echo "building $PARAM_TARGET" && sleep 1 && echo done',
      artifacts: ['dist/*.txt'],
    },
    { name: 'approve', depends_on: ['build'], approval: { prompt: 'Ship it?' } },
    { name: 'ship', command: 'echo shipped', depends_on: ['approve'] },
  ],
}, null, 2);

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-pipeline-'));
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('sign in and catalog the project', async () => {
  await signIn(page);
  const res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  ({ id: projectId } = await res.json());
});

test('a pipeline defined on the project page runs with a parameter, live', async () => {
  await page.goto(`${BASE}/projects/${projectId}?tab=pipelines`);
  await hydrated(page);
  await page.click('[data-testid=new-pipeline]');
  await page.fill('[data-testid=pipeline-editor] textarea[name=definition]', DEFINITION);
  await page.click('[data-testid=save-pipeline]');
  const card = '[data-testid=pipeline][data-name=release]';
  await page.waitForSelector(card, { timeout: 10_000 });
  await page.click(`${card} [data-testid=run-pipeline]`);
  await page.selectOption(`${card} select[name=param-target]`, 'production');
  await page.click(`${card} [data-testid=start-run]`);
  await page.waitForURL(/\/pipelines\/runs\/\d+$/, { timeout: 10_000 });
  runUrl = page.url();
  await hydrated(page);
  await page.waitForSelector('[data-testid=dag-step][data-step=build]');
  await page.waitForSelector('[data-testid=dag-step][data-step=ship][data-state=pending]');
  // A line the step prints arrives live over the WebSocket.
  await page.waitForFunction(() => /building production/.test(document.querySelector('[data-testid=step-log]')?.textContent ?? ''), null, { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}40-pipeline-running.png`, fullPage: true });
});

test('the gate is approved with the keyboard and the run succeeds with its artifact', async () => {
  await page.waitForSelector('[data-testid=run-state]:has-text("waiting_approval")', { timeout: 15_000 });
  await page.waitForSelector('[data-testid=gate]');
  await page.screenshot({ path: `${ARTIFACTS}41-pipeline-gate.png`, fullPage: true });
  await page.keyboard.press('a');
  await page.waitForSelector('[data-testid=run-state]:has-text("succeeded")', { timeout: 15_000 });
  await page.waitForSelector('[data-testid=dag-step][data-step=ship][data-state=succeeded]');
  const href = await page.getAttribute('[data-testid=artifact]', 'href');
  assert.match(href, /\/api\/v1\/pipelines\/artifact\?run_id=\d+&path=dist\/app.txt/);
  const res = await page.request.get(`${BASE}${href}`);
  assert.equal(res.status(), 200);
  assert.equal(await res.text(), 'built for production');
  assert.match(res.headers()['x-checksum-sha256'] ?? '', /^[0-9a-f]{64}$/);
  await page.screenshot({ path: `${ARTIFACTS}42-pipeline-succeeded.png`, fullPage: true });
});

test('`g l` opens the pipelines page listing the run', async () => {
  await page.keyboard.press('g');
  await page.keyboard.press('l');
  await page.waitForURL(`${BASE}/pipelines`);
  await hydrated(page);
  const row = `[data-testid=run-row]:has(a[href="${new URL(runUrl).pathname}"])`;
  await page.waitForSelector(`${row} [data-testid=run-status]:has-text("succeeded")`, { timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}43-pipelines-page.png`, fullPage: true });
});
