// Notifications that leave Optimus, in the browser: a webhook channel is added on the
// Notifications page (`g n`) with a rule sending it everything, its signing secret is shown once,
// "Send test" reaches a real receiver on loopback that checks the Standard Webhooks signature,
// and the delivery shows in the log with its attempt. A council answer then goes out through the
// rule.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { BASE, ARTIFACTS, launch, signIn, hydrated } from './helpers.mjs';

let browser;
let page;
let receiver;
let hookUrl;
let secret;
const got = [];

before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${receiver.address().port}/hooks/s3cr3t-path`;
  ({ browser, page } = await launch({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await browser?.close();
  receiver?.close();
});

function signed(secret, r) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key)
    .update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`)
    .digest('base64');
  return r.headers['webhook-signature'].split(' ').includes(`v1,${mac}`);
}

async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    assert.ok(Date.now() < end, `not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('add a webhook channel in the UI; its secret is shown once', async () => {
  await signIn(page);
  await page.keyboard.press('g');
  await page.keyboard.press('n');
  await page.waitForURL(`${BASE}/notifications`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=no-channels]');
  await page.click('[data-testid=new-channel] summary');
  await page.fill('[data-testid=new-channel] input[name=name]', 'ops-hook');
  await page.fill('[data-testid=new-channel] input[name=url]', hookUrl);
  await page.click('[data-testid=create-channel]');
  const channel = '[data-testid=channel][data-name=ops-hook]';
  await page.waitForSelector(channel);
  secret = (await page.textContent('[data-testid=channel-secret] code')).trim();
  assert.match(secret, /^whsec_/);
  // The path (which often holds a token) is not shown.
  const shown = await page.textContent(channel);
  assert.ok(!shown.includes('s3cr3t-path'), shown);
  await page.waitForSelector(`${channel} [data-testid=channel-rule]:has-text("every kind")`);
});

test('"Send test" reaches the receiver, signed, and shows in the delivery log', async () => {
  const channel = '[data-testid=channel][data-name=ops-hook]';
  await page.click(`${channel} [data-testid=send-test]`);
  await until('the receiver got the test', () => got.length >= 1);
  assert.ok(signed(secret, got[0]), 'the signature checks out');
  assert.equal(JSON.parse(got[0].body).type, 'test');
  const row = '[data-testid=delivery][data-kind=test][data-status=delivered]';
  await page.waitForSelector(row);
  await page.click(`${row} [data-testid=delivery-log]`);
  await page.waitForSelector(`${row} [data-testid=attempt][data-outcome=delivered]`);
  await page.screenshot({ path: `${ARTIFACTS}70-notifications.png`, fullPage: true });
});

test('a council answer goes out through the rule', async () => {
  const res = await page.request.post(`${BASE}/api/v1/council/deliberate`, {
    data: { question: 'Deploy the notifications page?' },
  });
  assert.equal(res.status(), 200, await res.text());
  const hit = await until('the council answer was delivered', () =>
    got.find((r) => JSON.parse(r.body).type === 'council_decided'));
  assert.ok(signed(secret, hit));
  await page.click('button:has-text("Refresh")');
  await page.waitForSelector('[data-testid=delivery][data-kind=council_decided][data-status=delivered]');
});
