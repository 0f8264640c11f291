// The inbox in real headless Chromium (Debian's chromium, driven by playwright-core) on the real
// stack: sign in, approve a chain's gate with a message, watch the process page finish live, reject,
// a new pause arriving without a reload, and agent text that tries to be HTML rendered inert.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../serve/app';
import { agent, chain, gate } from '../chain/specs';
import { startChain, startServeStack, type ServeStack } from './helpers';

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const HOSTILE =
  '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">' +
  '<a href="javascript:window.__pwned = 3">click me</a> \u202Egnp.exe\u202C';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let s: ServeStack;
let browser: Browser;
let page: Page;

before(async () => {
  s = await startServeStack({
    label: 'serve-browser',
    env: { COASTY_SERVE_TOKENS: `ops=${TOKEN}` },
    rules: [{ pattern: 'hostile-agent', behaviour: { humanReason: HOSTILE } }],
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

const invoiceChain = () =>
  chain(
    [
      agent('check', 'Check invoice INV-2041 from ACME GmbH [steps=2]'),
      gate('review', 'Pay invoice INV-2041 of ACME GmbH, EUR 1,240.00?'),
      agent('pay', 'Pay invoice INV-2041 [steps=1]'),
    ],
    { name: 'pay-acme-invoice', maxCostCents: 200 },
  );

const card = (id: string) => page.locator(`article[data-key="${id}#review"]`);

test('sign in, see the gate, approve with a message, watch the process page finish', async () => {
  await page.goto(s.serve.url);
  assert.match(page.url(), /\/signin$/);
  await page.fill('input[name=token]', 'not-the-token-at-all');
  await page.click('button[type=submit]');
  await page.locator('p.problem').waitFor();
  await page.fill('input[name=token]', TOKEN);
  await page.click('button[type=submit]');
  await page.locator('text=signed in as').waitFor();

  const handle = await startChain(s.stack, invoiceChain(), 'browser-approve');
  await card(handle.workflowId).waitFor({ timeout: 60_000 });
  const text = await card(handle.workflowId).innerText();
  assert.match(text, /Pay invoice INV-2041 of ACME GmbH, EUR 1,240\.00\?/);
  assert.match(text, /approval gate review/);
  assert.match(text, /then reject/);
  assert.match(text, /of \$2\.00 budget/);

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = new URL('inbox.png', ARTIFACTS);
  await page.screenshot({ path: shot.pathname, fullPage: true });
  if (process.env.COASTY_UPDATE_DOCS_SCREENSHOT)
    copyFileSync(shot, new URL('../../docs/inbox.png', import.meta.url));

  await card(handle.workflowId).locator('textarea[name=message]').fill('Checked against the PO, pay it.');
  await card(handle.workflowId).locator('button[value=approve]').click();
  await page.waitForURL(/\/processes\//);
  await page.locator('p.notice', { hasText: 'Approved' }).waitFor();
  await page.locator('[data-status]', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
  await page.locator('tbody[data-live=lines] tr[data-key=pay] td.state-succeeded').waitFor();

  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals[0]!.by, 'ops');
  assert.equal(result.approvals[0]!.message, 'Checked against the PO, pay it.');
  await page.reload();
  assert.match(
    await page.locator('ul.decisions').innerText(),
    /approve review by ops .*Checked against the PO/,
  );
});

test('a reject follows the gate policy: the chain fails and the next step is skipped', async () => {
  const handle = await startChain(s.stack, invoiceChain(), 'browser-reject');
  await page.goto(s.serve.url);
  await card(handle.workflowId).waitFor({ timeout: 60_000 });
  await card(handle.workflowId).locator('textarea[name=message]').fill('Wrong amount.');
  await card(handle.workflowId).locator('button[value=reject]').click();
  await page.locator('[data-status]', { hasText: 'failed' }).waitFor({ timeout: 60_000 });
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    result.steps.map((step) => step.state),
    ['succeeded', 'rejected', 'skipped'],
  );
  assert.equal(result.approvals[0]!.by, 'ops');
});

test('a new pause appears in an open inbox without a reload', async () => {
  await page.goto(s.serve.url);
  await page.evaluate(() => ((globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true));
  const handle = await startChain(s.stack, invoiceChain(), 'browser-live');
  await card(handle.workflowId).waitFor({ timeout: 60_000 });
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    true,
  );
  // ...and goes away when it is decided elsewhere.
  await s.stack.env.client.workflow.getHandle(handle.workflowId).executeUpdate('decide', {
    args: [{ action: 'approve', requestId: 'review', by: 'elsewhere' }],
  });
  await card(handle.workflowId).waitFor({ state: 'detached', timeout: 60_000 });
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    true,
  );
  await handle.result();
});

test('agent text with HTML, script, javascript: links and bidi overrides renders as inert text', async () => {
  const handle = await startChain(
    s.stack,
    chain([agent('submit', 'Submit the form hostile-agent [steps=3] [human@2]')], { name: 'hostile' }),
    'browser-hostile',
  );
  const response = await page.goto(s.serve.url);
  assert.equal(response?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
  const hostileCard = page.locator('article.waiting', { hasText: 'click me' });
  await hostileCard.waitFor({ timeout: 60_000 });
  for (const path of ['/', `/processes/${encodeURIComponent(handle.workflowId)}`]) {
    await page.goto(new URL(path, s.serve.url).toString());
    await page.locator('article.waiting', { hasText: 'click me' }).waitFor({ timeout: 60_000 });
    const reason = await page.locator('article.waiting dd.agent-text').first().innerText();
    assert.ok(reason.includes('<script>window.__pwned = 1</script>'), 'the markup is shown as text');
    assert.ok(reason.includes('[U+202E]gnp.exe[U+202C]'), 'bidi overrides are visible marks');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
      undefined,
    );
    assert.equal(await page.locator('main script, main img, main a[href^="javascript:"]').count(), 0);
    assert.deepEqual(
      await page.$$eval('script', (scripts) => scripts.map((script) => script.getAttribute('src'))),
      ['/assets/live.js'],
    );
  }
  await s.stack.env.client.workflow.getHandle(handle.workflowId).executeUpdate('decide', {
    args: [{ action: 'reject', by: 'ops' }],
  });
  await handle.result();
});
