// Deployments in the browser: a project with a public service is deployed from its Deployments
// tab (the steps arrive live), deployed again with the `D` key, rolled back to its first release
// from the releases table, and the history shows the rollback; `g e` lists them all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated } from './helpers.mjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let browser;
let page;
let folder;
let projectId;
let publicPort;

// Answers every GET with version.txt's text on $PORT.
const SERVER = `
import http.server, os
port = int(os.environ["PORT"])
version = open("version.txt").read().strip()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = version.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
`;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function served() {
  const res = await page.request.get(`http://127.0.0.1:${publicPort}/`);
  return res.text();
}

const latest = (status) => `[data-testid=latest-deployment][data-status=${status}]`;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-deploy-'));
  writeFileSync(join(folder, 'serve.py'), SERVER);
  writeFileSync(join(folder, 'version.txt'), 'v1');
  publicPort = await freePort();
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('sign in, catalog the project and give it a public service', async () => {
  await signIn(page);
  let res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  ({ id: projectId } = await res.json());
  res = await page.request.post(`${BASE}/api/v1/services/create`, {
    data: {
      project_id: projectId,
      definition: {
        name: 'web', command: 'exec python3 serve.py', allocate_port: true, public_port: publicPort,
        deploy: { watch_secs: 2, ready_passes: 2 },
      },
    },
  });
  assert.equal(res.status(), 200, await res.text());
});

test('deploy from the Deployments tab and watch the steps arrive live', async () => {
  await page.goto(`${BASE}/projects/${projectId}?tab=deployments`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=current-release]:has-text("Nothing deployed yet")');
  await page.click('[data-testid=deploy]');
  // While it runs (the watch window lasts 2 s), its steps show up one after the other.
  await page.waitForSelector(`${latest('running')} [data-testid=deploy-step]`, { timeout: 20_000 });
  await page.screenshot({ path: `${ARTIFACTS}50-deployment-running.png`, fullPage: true });
  await page.waitForSelector(latest('succeeded'), { timeout: 30_000 });
  const steps = await page.$$eval(`${latest('succeeded')} [data-testid=deploy-step]`, (els) => els.map((e) => e.textContent));
  assert.ok(steps.some((s) => /switch web/.test(s)), steps.join('\n'));
  await page.waitForSelector('[data-testid=current-release]:has-text("Release 1 serves")');
  assert.equal(await served(), 'v1');
});

test('`D` deploys a second release, and release 1 comes back from the releases table', async () => {
  writeFileSync(join(folder, 'version.txt'), 'v2');
  await page.keyboard.press('Shift+D');
  await page.waitForSelector('[data-testid=current-release]:has-text("Release 2 serves")', { timeout: 30_000 });
  assert.equal(await served(), 'v2');
  await page.click('[data-testid=release-row][data-number="1"] [data-testid=rollback-to]');
  await page.waitForSelector('[data-testid=current-release]:has-text("Release 1 serves")', { timeout: 30_000 });
  assert.equal(await served(), 'v1');
  await page.waitForSelector('[data-testid=deployment-row][data-kind=rollback][data-status=succeeded]');
  const rows = await page.$$('[data-testid=deployment-row]');
  assert.equal(rows.length, 3);
  await page.click('[data-testid=compare-releases]');
  await page.waitForSelector('[data-testid=release-diff]:has-text("Release 1 → 2")');
  await page.screenshot({ path: `${ARTIFACTS}51-deployment-history.png`, fullPage: true });
});

test('`g e` opens the deployments across projects', async () => {
  await page.keyboard.press('g');
  await page.keyboard.press('e');
  await page.waitForURL(`${BASE}/deployments`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=deployment-row][data-kind=rollback]', { timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}52-deployments-page.png`, fullPage: true });
});
