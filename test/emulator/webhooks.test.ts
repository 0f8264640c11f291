import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { RunEvent } from '../../api/types';
import { signWebhook } from '../../emulator/index';
import { createRun, emulator, waitFor, waitForEnd } from './helpers';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

type Answer = (delivery: Delivery, attemptOfThisEvent: number) => { status: number; delayMs?: number };

async function receiver(t: TestContext, answer: Answer = () => ({ status: 200 })) {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delivery = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      deliveries.push(delivery);
      const id = String(req.headers['coasty-event-id']);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const { status, delayMs } = answer(delivery, n);
      const send = (): void => {
        if (!res.destroyed) res.writeHead(status).end();
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/coasty`;
  return { url, deliveries, attempts };
}

// What a receiver must do: check the HMAC over "<t>.<raw body>" and refuse old timestamps.
function verify(
  secret: string,
  header: string,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2] ?? '', 'hex'));
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/none`;
}

const FAST_HOOKS = { backoffBaseMs: 10, backoffMaxMs: 200, timeoutMs: 2000 };

describe('webhooks', () => {
  test('each event is POSTed as its JSON, in order, with Coasty-Event-Id and a valid signature', async (t) => {
    const hook = await receiver(t);
    const emu = await emulator(t, { config: { webhooks: { ...FAST_HOOKS, secret: 'whsec_test' } } });
    const run = await createRun(emu, { task: 'Hooked [steps=4]', webhook_url: hook.url });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    await waitFor('all deliveries', () => hook.deliveries.length === truth.length);
    hook.deliveries.forEach((d, i) => {
      assert.equal(d.body, JSON.stringify(truth[i]), 'the same JSON as the stream data line');
      assert.equal(d.headers['coasty-event-id'], truth[i]?.id);
      assert.equal(d.headers['content-type'], 'application/json');
      assert.ok(verify('whsec_test', String(d.headers['coasty-signature']), d.body), 'signature verifies');
      assert.ok(!verify('wrong_secret', String(d.headers['coasty-signature']), d.body));
      assert.ok(
        !verify('whsec_test', String(d.headers['coasty-signature']), `${d.body} `),
        'tampered body fails',
      );
    });
    assert.equal(emu.webhookSecret, 'whsec_test');
    const counters = await emu.admin.counters();
    assert.equal(counters.webhook_deliveries, truth.length);
    assert.equal(counters.webhook_attempts, truth.length);
  });

  test('the signature format is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const header = signWebhook('secret', 1700000000, '{"a":1}');
    const v1 = createHmac('sha256', 'secret').update('1700000000.{"a":1}').digest('hex');
    assert.equal(header, `t=1700000000,v1=${v1}`);
    assert.ok(!verify('secret', header, '{"a":1}', 1700000000 + 301), 'older than 5 minutes is refused');
  });

  test('non-2xx is retried with exponential backoff until it succeeds', async (t) => {
    const hook = await receiver(t, (_, n) => ({ status: n <= 3 ? 500 : 204 }));
    const emu = await emulator(t, {
      config: { webhooks: { ...FAST_HOOKS, backoffBaseMs: 40, backoffMaxMs: 1000 } },
    });
    const run = await createRun(emu, { task: 'Retry [steps=1]', webhook_url: hook.url });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    await waitFor('deliveries', async () => (await emu.admin.counters()).webhook_deliveries === truth.length);
    for (const event of truth) assert.equal(hook.attempts.get(event.id), 4);
    const first = hook.deliveries.filter((d) => d.headers['coasty-event-id'] === truth[0]?.id);
    assert.deepEqual(
      first.map((d) => d.headers['coasty-delivery-attempt']),
      ['1', '2', '3', '4'],
    );
    const gaps = first.slice(1).map((d, i) => d.at - (first[i]?.at ?? 0));
    // base 40 ms doubling, jitter x0.75..1.25: at least 30, 60, 120 ms.
    gaps.forEach((gap, i) => assert.ok(gap >= 40 * 2 ** i * 0.75 - 5, `gap ${i}: ${gap.toFixed(1)} ms`));
    t.diagnostic(`backoff gaps: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
    const counters = await emu.admin.counters();
    assert.equal(counters.webhook_attempts, truth.length * 4);
  });

  test('at least once: a slow answer counts as a failure, the receiver sees duplicates and dedupes by id', async (t) => {
    const hook = await receiver(t, (_, n) => ({ status: 200, delayMs: n === 1 ? 800 : 0 }));
    const emu = await emulator(t, { config: { webhooks: { ...FAST_HOOKS, timeoutMs: 250 } } });
    const run = await createRun(emu, { task: 'Slow receiver [steps=2]', webhook_url: hook.url });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    await waitFor('deliveries', async () => (await emu.admin.counters()).webhook_deliveries === truth.length);
    assert.ok(hook.deliveries.length >= truth.length * 2, 'every event arrived at least twice');
    const unique = new Map<string, RunEvent>();
    for (const d of hook.deliveries)
      unique.set(String(d.headers['coasty-event-id']), JSON.parse(d.body) as RunEvent);
    assert.deepEqual([...unique.values()], truth);
  });

  test('gives up after maxAttempts (at least 5), counting the failure; a dead URL is retried too', async (t) => {
    const hook = await receiver(t, () => ({ status: 503 }));
    const emu = await emulator(t, {
      config: { webhooks: { ...FAST_HOOKS, backoffBaseMs: 1, maxAttempts: 5 } },
    });
    const run = await createRun(emu, { task: 'Dead [steps=1]', webhook_url: hook.url });
    await waitForEnd(emu, run.id);
    const events = (await emu.admin.runEvents(run.id)).length;
    await waitFor('failures', async () => (await emu.admin.counters()).webhook_failures === events);
    for (const n of hook.attempts.values()) assert.equal(n, 5);
    const closed = await emulator(t, {
      config: { webhooks: { ...FAST_HOOKS, backoffBaseMs: 1, maxAttempts: 5 } },
    });
    const lost = await createRun(closed, {
      task: 'Nobody home [steps=1]',
      webhook_url: await closedPortUrl(),
    });
    await waitForEnd(closed, lost.id);
    await waitFor(
      'refused attempts',
      async () => (await closed.admin.counters()).webhook_failures === events,
    );
    assert.equal((await closed.admin.counters()).webhook_attempts, events * 5);
    await assert.rejects(
      emulator(t, { config: { webhooks: { maxAttempts: 3 } } }),
      /maxAttempts/,
      'fewer than 5 tries is refused',
    );
  });
});
