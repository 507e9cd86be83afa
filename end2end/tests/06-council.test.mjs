// The council in the browser: ask about a project with stated facts, see every persona's card
// and the consensus with its confidence and cited evidence, and find it in the history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, launch, signIn, hydrated as waitHydrated } from './helpers.mjs';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


let browser;
let page;
let folder;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'optimus-e2e-council-'));
  writeFileSync(join(folder, 'Cargo.toml'), '[package]\nname = "ledger"\nversion = "0.1.0"\n');
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
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
});

test('a question about the project gets every persona\'s card and a confident consensus', async () => {
  await page.keyboard.press('g');
  await page.keyboard.press('c');
  await page.waitForURL(`${BASE}/council`);
  await hydrated();
  const form = page.locator('[data-testid=ask]');
  await form.locator('textarea[name=question]').fill('Should we deploy the ledger schema migration today?');
  await page.waitForSelector('select[name=project] option:has-text("ledger")', { state: 'attached' });
  await form.locator('select[name=project]').selectOption({ label: 'ledger' });
  await form.locator('textarea[name=facts]').fill('tests = failing\nschema_change = true\nteam_size = 3\nerror_rate = 7%\nmascot = otter');
  await page.click('[data-testid=deliberate]');
  await page.waitForSelector('[data-testid=consensus]', { timeout: 20_000 });
  const option = await page.getAttribute('[data-testid=consensus]', 'data-option');
  assert.ok(['defer', 'reject'].includes(option), option);
  const confidence = Number((await page.textContent('[data-testid=consensus-confidence]')).match(/(\d+)%/)[1]);
  assert.ok(confidence > 70, `confidence ${confidence}%`);
  // The kind of decision, the facts it could not use, and what would change the call.
  assert.match(await page.textContent('[data-testid=consensus-kind]'), /migration/);
  assert.match(await page.textContent('[data-testid=unused-facts]'), /mascot = otter/);
  assert.doesNotMatch(await page.textContent('[data-testid=unused-facts]'), /error_rate/);
  assert.match(await page.textContent('[data-testid=would-change]'), /the call would be `\w+`/);
  assert.match(await page.textContent('[data-testid=evidence]'), /error_rate = 7% \(an error rate\)/);
  const personas = await page.$$eval('[data-testid=turns] [data-testid=turn]', (els) => els.map((e) => e.dataset.persona));
  assert.deepEqual(personas, ['strategist', 'pragmatist', 'innovator', 'guardian', 'analyst']);
  const guardian = page.locator('[data-testid=turns] [data-persona=guardian]');
  assert.match(await guardian.textContent(), /\[E\d+\]/);
  assert.ok((await page.$$('[data-testid=evidence] li')).length >= 4);
  // The decision sits in the knowledge graph, linked to its project and the project's stack.
  await page.waitForFunction(() => /^([3-9]|\d\d+) nodes/.test(document.querySelector('[data-testid=graph-count]')?.textContent ?? ''), null, { timeout: 10_000 });
  await page.waitForSelector('[data-testid=network] canvas', { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}40-council.png`, fullPage: true });
  // It is in the history, and the personas table lists all thirteen.
  await page.waitForSelector('[data-testid=history] td:has-text("ledger schema migration")');
  assert.equal((await page.$$('[data-testid=personas] tbody tr')).length, 13);
  // The deliberation is remembered: found by a search, and forgotten on request.
  await page.fill('input[name=memory-search]', 'ledger schema migration');
  await page.waitForSelector('[data-testid=memories] li:has-text("ledger schema migration")');
  const before = (await page.$$('[data-testid=memories] li')).length;
  await page.click('[data-testid=memories] li >> nth=0 >> [data-testid=forget]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=memories] li').length === n - 1, before);
});
