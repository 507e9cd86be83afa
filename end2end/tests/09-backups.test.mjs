// Backups in the browser: a backup policy is added on a project's Backups tab, run with
// "Back up now" (its job shows up running, with its progress, then succeeded), the snapshot is
// browsed and one file of it restored to a new path, byte for byte, then in place over a changed
// copy (a dry run first, which writes nothing; the restore takes a safety snapshot); `g b` lists
// the policies across projects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated } from './helpers.mjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let browser;
let page;
let folder;
let out;
let projectId;
const hello = `hello from the backup ${Date.now()}\n`;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-backup-'));
  out = mkdtempSync(join(tmpdir(), 'optimus-e2e-restored-'));
  mkdirSync(join(folder, 'data'));
  writeFileSync(join(folder, 'data', 'hello.txt'), hello);
  writeFileSync(join(folder, 'notes.md'), '# notes\n');
  // Enough data that the backup is seen running, with its progress.
  const big = join(folder, 'data', 'big.bin');
  writeFileSync(big, '');
  for (let i = 0; i < 24; i++) writeFileSync(big, randomBytes(8 << 20), { flag: 'a' });
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const job = (kind, status) => `[data-testid=backup-job][data-kind=${kind}][data-status=${status}]`;

test('sign in and catalog the project', async () => {
  await signIn(page);
  const res = await page.request.post(`${BASE}/api/v1/projects/create`, { data: { path: folder } });
  assert.equal(res.status(), 200, await res.text());
  ({ id: projectId } = await res.json());
});

test('add a policy on the Backups tab and back up now, watching it run', async () => {
  await page.goto(`${BASE}/projects/${projectId}?tab=backups`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=no-backup-policies]');
  await page.click('[data-testid=new-backup-policy] summary');
  await page.fill('[data-testid=new-backup-policy] input[name=name]', 'nightly');
  await page.click('[data-testid=create-backup-policy]');
  const policy = '[data-testid=backup-policy][data-name=nightly]';
  await page.waitForSelector(policy);
  // No backup yet and no schedule: the policy says it needs one.
  await page.waitForSelector(`${policy} [data-testid=backup-alert]`);
  await page.click(`${policy} [data-testid=backup-now]`);
  await page.waitForSelector(`${policy} ${job('backup', 'running')} [data-testid=backup-progress]`, { timeout: 20_000 });
  await page.screenshot({ path: `${ARTIFACTS}60-backup-running.png`, fullPage: true });
  await page.waitForSelector(`${policy} ${job('backup', 'succeeded')}`, { timeout: 60_000 });
  await page.waitForSelector(`${policy} [data-testid=backup-snapshot][data-status=good]`);
  assert.equal(await page.$(`${policy} [data-testid=backup-alert]`), null, 'the alert stays after a good backup');
});

test('browse the snapshot and restore one file to a new path', async () => {
  const policy = '[data-testid=backup-policy][data-name=nightly]';
  await page.click(`${policy} [data-testid=backup-snapshot][data-status=good] [data-testid=browse-snapshot]`);
  await page.click('[data-testid=snapshot-entry][data-name=data] [data-testid=open-folder]');
  await page.waitForSelector('[data-testid=snapshot-entry][data-name="big.bin"]');
  await page.click('[data-testid=snapshot-entry][data-name="hello.txt"] [data-testid=choose-restore]');
  await page.waitForSelector('[data-testid=restore-form]:has-text("data/hello.txt")');
  const target = join(out, 'hello-restored.txt');
  await page.fill('[data-testid=restore-form] input[name=target_path]', target);
  await page.click('[data-testid=restore]');
  await page.waitForSelector(`${policy} ${job('restore', 'succeeded')}`, { timeout: 30_000 });
  const line = await page.textContent(`${policy} ${job('restore', 'succeeded')}`);
  assert.match(line, /read back and verified/);
  assert.equal(readFileSync(target, 'utf8'), hello);
  await page.screenshot({ path: `${ARTIFACTS}61-backup-restored.png`, fullPage: true });
});

test('restore the file in place: a dry run writes nothing, the restore takes a safety snapshot first', async () => {
  const policy = '[data-testid=backup-policy][data-name=nightly]';
  const file = join(folder, 'data', 'hello.txt');
  writeFileSync(file, 'changed\n');
  await page.check('[data-testid=restore-in-place]');
  await page.waitForSelector('[data-testid=restore-form]:has-text("over the project\'s folder")');
  assert.equal(await page.$('[data-testid=restore-form] input[name=target_path]'), null, 'in place needs no target path');
  await page.click('[data-testid=restore-dry-run]');
  const dry = `${policy} ${job('restore', 'succeeded')}:has-text("dry run")`;
  await page.waitForSelector(dry, { timeout: 30_000 });
  assert.match(await page.textContent(dry), /1 files, .* would be written/);
  assert.equal(readFileSync(file, 'utf8'), 'changed\n', 'a dry run wrote');
  await page.click('[data-testid=restore]');
  const done = `${policy} ${job('restore', 'succeeded')}:has-text("safety snapshot")`;
  await page.waitForSelector(done, { timeout: 30_000 });
  assert.match(await page.textContent(done), /in place.*read back and verified/s);
  assert.equal(readFileSync(file, 'utf8'), hello);
  await page.waitForSelector(`${policy} [data-testid=backup-snapshot] .tag:has-text("safety")`, { timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}61b-backup-restored-in-place.png`, fullPage: true });
});

test('`g b` opens the backups across projects', async () => {
  await page.keyboard.press('g');
  await page.keyboard.press('b');
  await page.waitForURL(`${BASE}/backups`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=backup-policy-row][data-alert=false]', { timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}62-backups-page.png`, fullPage: true });
});
