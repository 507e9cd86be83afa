// First run to dashboard, theme persistence, command palette (proves hydration), shortcuts,
// role-aware actions, and the 404 page: Playwright driving Debian's Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ARTIFACTS, OWNER, launch, hydrated as waitHydrated } from './helpers.mjs';

const VIEWER = { username: 'vicky', password: 'another fine passphrase' };

let browser;
let context;
let page;

async function shot(name) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

async function hydrated() {
  await waitHydrated(page);
}

async function gotoWithRetry(path) {
  for (let i = 0; ; i++) {
    try {
      return await page.goto(`${BASE}${path}`);
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

before(async () => {
  ({ browser, context, page } = await launch());
});

after(async () => {
  await browser?.close();
});

test('a new install sends the visitor to first-run setup, which leads to the dashboard', async () => {
  await gotoWithRetry('/');
  await page.waitForURL(/\/setup$/);
  await hydrated();
  await shot('01-setup');
  await page.fill('input[name=username]', OWNER.username);
  await page.fill('input[name=password]', OWNER.password);
  await page.fill('input[name=confirm]', OWNER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=dashboard-title]', { timeout: 15_000 });
  assert.match(await page.textContent('[data-testid=whoami]'), /owner/);
  await shot('02-dashboard');
});

test('the setup page is closed once an owner exists', async () => {
  const res = await page.request.post(`${BASE}/api/v1/auth/setup`, { data: { username: 'x-user', password: 'yet another passphrase' } });
  assert.equal(res.status(), 409);
});

test('Ctrl+K opens a palette with the owner\'s actions', async () => {
  await hydrated();
  await page.keyboard.press('Control+k');
  await page.waitForSelector('[data-testid=palette]', { timeout: 5_000 });
  const commands = await page.$$eval('[data-command]', (els) => els.map((e) => e.getAttribute('data-command')));
  assert.ok(commands.includes('go-users'), commands.join(','));
  assert.ok(commands.includes('create-user'));
  await page.keyboard.type('audit');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/audit$/);
  await page.waitForSelector('[data-testid=audit-table]');
  await shot('03-audit-via-palette');
});

test('? lists every shortcut', async () => {
  await page.click('h1');
  await page.keyboard.press('Shift+?');
  await page.waitForSelector('[data-testid=shortcuts]', { timeout: 5_000 });
  assert.match(await page.textContent('[data-testid=shortcuts]'), /Ctrl\/⌘ K/);
  await shot('04-shortcuts');
  await page.keyboard.press('Escape');
});

test('the theme switch persists across a reload', async () => {
  await page.selectOption('[data-testid=theme-switch]', 'dark');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await page.reload();
  // Set by the inline boot script before first paint, not after hydration.
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await hydrated();
  assert.equal(await page.inputValue('[data-testid=theme-switch]'), 'dark');
  await shot('05-dark');
  await page.selectOption('[data-testid=theme-switch]', 'light');
  await page.reload();
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
});

test('an owner creates a viewer in the Users page', async () => {
  await gotoWithRetry('/users');
  await hydrated();
  await page.fill('[data-testid=create-user] input[name=username]', VIEWER.username);
  await page.fill('[data-testid=create-user] input[name=password]', VIEWER.password);
  await page.selectOption('[data-testid=create-user] select[name=role]', 'viewer');
  await page.click('[data-testid=create-user] button[type=submit]');
  await page.waitForSelector(`[data-testid=users-table] >> text=${VIEWER.username}`, { timeout: 10_000 });
  await shot('06-users');
});

test('a viewer does not see admin actions', async () => {
  await page.click('[data-testid=sign-out]');
  await page.waitForURL(/\/login$/);
  await hydrated();
  await page.fill('input[name=username]', VIEWER.username);
  await page.fill('input[name=password]', VIEWER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=dashboard-title]', { timeout: 15_000 });
  await hydrated();
  const nav = await page.textContent('nav');
  assert.doesNotMatch(nav, /Users|Audit/);
  await page.keyboard.press('Control+k');
  await page.waitForSelector('[data-testid=palette]');
  const commands = await page.$$eval('[data-command]', (els) => els.map((e) => e.getAttribute('data-command')));
  assert.ok(!commands.includes('go-users') && !commands.includes('create-user') && !commands.includes('go-audit'), commands.join(','));
  assert.ok(commands.includes('go-tokens'));
  await shot('07-viewer-palette');
  await page.keyboard.press('Escape');
});

test('an unknown page answers 404 with a page that says so', async () => {
  const res = await page.goto(`${BASE}/no/such/page`);
  assert.equal(res.status(), 404);
  assert.match(await page.textContent('body'), /404/);
});

test('the dashboard fits a phone screen', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`${BASE}/`);
  await page.waitForSelector('[data-testid=dashboard-title]');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `horizontal overflow ${overflow}px`);
  await shot('08-phone');
});

test('at phone width the top bar is one row and the rest folds behind the menu button', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`${BASE}/`);
  await hydrated();
  await page.waitForSelector('[data-testid=notifications]');
  const button = page.locator('[data-testid=menu-button]');
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  const menu = page.locator(`#${await button.getAttribute('aria-controls')}`);
  assert.equal(await menu.count(), 1, 'aria-controls names the menu');
  assert.equal(await menu.isVisible(), false, 'the menu starts folded');
  assert.equal(await page.locator('nav[aria-label=Main]').isVisible(), false);
  assert.equal(await page.locator('[data-testid=sign-out]').isVisible(), false);
  // Every item left in the bar (brand, palette, bell, menu button) shares one line.
  const row = await page.evaluate(() => {
    const boxes = [...document.querySelectorAll('.topbar > *, .topbar-end > *')]
      .filter((el) => !el.classList.contains('topbar-end'))
      .map((el) => el.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0);
    return { items: boxes.length, oneRow: Math.max(...boxes.map((r) => r.top)) < Math.min(...boxes.map((r) => r.bottom)) };
  });
  assert.equal(row.items, 4, JSON.stringify(row));
  assert.ok(row.oneRow, 'the top bar wraps');

  await button.click();
  await page.waitForSelector('[data-testid=menu-button][aria-expanded=true]');
  await menu.waitFor({ state: 'visible' });
  assert.ok(await page.locator('nav[aria-label=Main] a[href="/projects"]').isVisible());
  assert.ok(await page.locator('[data-testid=sign-out]').isVisible());
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the open menu overflows by ${overflow}px`);
  await shot('09-phone-menu');
  // Escape folds it and gives the focus back to the button.
  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'hidden' });
  await page.waitForSelector('[data-testid=menu-button][aria-expanded=false]');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'menu-button');
  // A link followed from the menu folds it too.
  await button.click();
  await menu.waitFor({ state: 'visible' });
  await page.click('nav[aria-label=Main] a[href="/projects"]');
  await page.waitForURL(/\/projects$/);
  await menu.waitFor({ state: 'hidden' });
  await page.waitForSelector('[data-testid=menu-button][aria-expanded=false]');
});
