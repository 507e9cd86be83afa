// GitHub in the browser: on a project whose origin is on a GitHub-speaking server on loopback, an
// admin sets the token on the project's overview; the page then shows the default branch's and
// the local HEAD's CI, the open pull requests and the latest release, and "Refresh" asks again
// with ETags (the unchanged answers are 304s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, ARTIFACTS, launch, signIn, hydrated } from './helpers.mjs';

let browser;
let page;
let hub;
let api;
let folder;
let head;
let projectId;
const seen = { requests: 0, notModified: 0, auth: new Set() };

function git(...args) {
  return execFileSync('git', ['-c', 'user.name=E2E', '-c', 'user.email=e2e@example.com',
    '-c', 'init.defaultBranch=main', ...args], { cwd: folder }).toString().trim();
}

function answers(path) {
  const repo = '/api/v3/repos/acme/gadget';
  if (path === repo) return { default_branch: 'main', html_url: 'https://github.example/acme/gadget' };
  if (path.startsWith(`${repo}/pulls`)) {
    return [3, 2, 1].map((n) => ({ number: n, title: `Change ${n}`, draft: false, user: { login: 'dev' },
      updated_at: '2026-12-01T10:00:00Z', html_url: `https://github.example/acme/gadget/pull/${n}` }));
  }
  const m = path.match(/^\/api\/v3\/repos\/acme\/gadget\/commits\/([^/]+)\/(status|check-runs)/);
  if (m && m[2] === 'status') {
    return m[1] === 'main'
      ? { statuses: [{ context: 'ci/build', state: 'success' }] }
      : { statuses: [{ context: 'ci/test', state: 'failure' }] };
  }
  if (m) return { total_count: 0, check_runs: [] };
  if (path === `${repo}/releases/latest`) {
    return { tag_name: 'v0.9.0', name: 'Gadget', published_at: '2026-12-03T09:00:00Z',
      html_url: 'https://github.example/acme/gadget/releases/tag/v0.9.0' };
  }
  if (path.startsWith(`${repo}/compare/`)) return { ahead_by: 1, behind_by: 4 };
  return null;
}

before(async () => {
  hub = createServer((req, res) => {
    const path = req.url.split('?')[0];
    const body = answers(path);
    seen.requests += 1;
    seen.auth.add(req.headers.authorization);
    if (body === null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"message":"Not Found"}');
      return;
    }
    const text = JSON.stringify(body);
    const etag = `"${createHash('sha256').update(text).digest('hex')}"`;
    const limits = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4990',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) };
    if (req.headers['if-none-match'] === etag) {
      seen.notModified += 1;
      res.writeHead(304, { etag, ...limits });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', etag, ...limits });
    res.end(text);
  });
  await new Promise((resolve) => hub.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${hub.address().port}/api/v3`;
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-github-'));
  writeFileSync(join(folder, 'package.json'), '{"name":"gadget","scripts":{"start":"node ."}}\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  git('remote', 'add', 'origin', 'git@127.0.0.1:acme/gadget.git');
  head = git('rev-parse', 'HEAD');
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 1000 } }));
});

after(async () => {
  await browser?.close();
  hub?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test('an admin sets the GitHub token on the project page', async () => {
  await signIn(page);
  const res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  projectId = (await res.json()).id;
  await page.goto(`${BASE}/projects/${projectId}`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=github-configure]');
  await page.fill('[data-testid=github-configure] input[name=token]', 'ghp_e2e_token');
  await page.fill('[data-testid=github-configure] input[name=base_url]', api);
  await page.click('[data-testid=github-configure] button[type=submit]');
  await page.waitForSelector('[data-testid=github-facts]', { timeout: 20_000 });
  assert.deepEqual([...seen.auth], ['Bearer ghp_e2e_token']);
});

test('the page shows CI of HEAD and main, pull requests, the release and the distance', async () => {
  assert.equal((await page.textContent('[data-testid=github-pulls]')).trim(), '3');
  await page.waitForSelector('[data-testid=github-head] [data-ci=failure]');
  const headText = await page.textContent('[data-testid=github-head]');
  assert.ok(headText.includes(head.slice(0, 10)), headText);
  assert.ok(headText.includes('ci/test'), headText);
  await page.waitForSelector('[data-testid=github-facts] [data-ci=success]');
  assert.match(await page.textContent('[data-testid=github-distance]'), /1 ahead, 4 behind main/);
  assert.match(await page.textContent('[data-testid=github-facts]'), /v0\.9\.0/);
  await page.screenshot({ path: `${ARTIFACTS}80-github.png`, fullPage: true });
});

test('"Refresh" asks again with ETags: unchanged answers are 304s', async () => {
  const before = seen.notModified;
  await page.click('[data-testid=github-refresh]');
  await page.waitForFunction(() => /[1-9]\d* unchanged/.test(
    document.querySelector('[data-testid=github-refreshed]')?.textContent ?? ''), null, { timeout: 20_000 });
  assert.ok(seen.notModified > before, `${seen.notModified} 304s`);
});
