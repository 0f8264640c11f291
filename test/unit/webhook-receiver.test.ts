import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  routedWorkflowId,
  routeToken,
  signPayload,
  verifySignature,
  webhookSettingsFromEnv,
  webhookUrlFor,
} from '../../api/webhooks';
import { signWebhook } from '../../emulator';
import { WebhookReceiver } from '../../serve/webhooks/receiver';
import type { RunStateChange } from '../../workflows/messages';

const SECRET = 'whsec_test';
const NOW = Date.parse('2026-12-02T12:00:00Z');
const t = Math.floor(NOW / 1000);

function delivery(
  event: Record<string, unknown>,
  options: { secret?: string; at?: number; workflow?: string; token?: string; body?: string } = {},
) {
  const body = options.body ?? JSON.stringify(event);
  const workflow = options.workflow ?? 'wf-1';
  return {
    query: { workflow, token: options.token ?? routeToken(SECRET, workflow) },
    headers: {
      'coasty-event-id': String(event.id),
      'coasty-signature': signWebhook(options.secret ?? SECRET, options.at ?? t, JSON.stringify(event)),
    },
    rawBody: body,
  };
}

function receiver(signals: Array<[string, RunStateChange]> = [], now = () => NOW) {
  return new WebhookReceiver({
    secret: SECRET,
    now,
    signal: async (workflowId, change) => {
      signals.push([workflowId, change]);
      return 'signalled';
    },
  });
}

const running = { id: 'evt_1', run_id: 'run_1', type: 'running', status: 'running' };

test("the emulator's signature verifies; ours is the same HMAC", () => {
  const body = JSON.stringify(running);
  assert.equal(verifySignature(SECRET, signWebhook(SECRET, t, body), body, NOW), undefined);
  assert.equal(signWebhook(SECRET, t, body), `t=${t},v1=${signPayload(SECRET, t, body)}`);
});

test('signature refusals: wrong secret, altered body, old or future timestamp, missing or malformed header', () => {
  const body = JSON.stringify(running);
  const good = signWebhook(SECRET, t, body);
  assert.equal(verifySignature(SECRET, signWebhook('whsec_other', t, body), body, NOW), 'mismatch');
  assert.equal(verifySignature(SECRET, good, body.replace('running', 'runnin9'), NOW), 'mismatch');
  assert.equal(verifySignature(SECRET, signWebhook(SECRET, t - 301, body), body, NOW), 'stale');
  assert.equal(verifySignature(SECRET, signWebhook(SECRET, t + 301, body), body, NOW), 'stale');
  assert.equal(verifySignature(SECRET, signWebhook(SECRET, t - 299, body), body, NOW), undefined);
  assert.equal(verifySignature(SECRET, undefined, body, NOW), 'missing');
  assert.equal(verifySignature(SECRET, 'v1=abc', body, NOW), 'malformed');
  assert.equal(verifySignature(SECRET, `t=${t},v1=zz`, body, NOW), 'mismatch');
  assert.equal(
    verifySignature(SECRET, `t=${t},v1=${'0'.repeat(64)},${good.split(',')[1]}`, body, NOW),
    undefined,
  );
});

test('a route token is bound to its workflow id and the secret', () => {
  const url = new URL(
    webhookUrlFor({ url: 'https://inbox.example.com/webhooks/runs', secret: SECRET }, 'wf/ä 1'),
  );
  assert.equal(url.pathname, '/webhooks/runs');
  const query = Object.fromEntries(url.searchParams);
  assert.equal(routedWorkflowId(SECRET, query), 'wf/ä 1');
  assert.equal(routedWorkflowId(SECRET, { ...query, workflow: 'wf-stranger' }), undefined);
  assert.equal(routedWorkflowId('whsec_other', query), undefined);
  assert.equal(routedWorkflowId(SECRET, { workflow: 'wf/ä 1' }), undefined);
});

test('a good delivery signals its workflow once; the same event again is a duplicate, not a second signal', async () => {
  const signals: Array<[string, RunStateChange]> = [];
  const r = receiver(signals);
  const first = await r.handle(delivery(running));
  assert.equal(first.status, 200);
  assert.deepEqual(signals, [['wf-1', { runId: 'run_1', eventId: 'evt_1', status: 'running' }]]);
  const again = await Promise.all([r.handle(delivery(running)), r.handle(delivery(running))]);
  assert.deepEqual(
    again.map((a) => a.status),
    [200, 200],
  );
  assert.equal(signals.length, 1);
  assert.equal(r.counts.duplicates, 2);
});

test('steps and queued are answered 2xx and never signalled (the workflow knows queued from creating the run)', async () => {
  const signals: Array<[string, RunStateChange]> = [];
  const r = receiver(signals);
  const step = await r.handle(delivery({ id: 'evt_2', run_id: 'run_1', type: 'step', status: 'running' }));
  const queued = await r.handle(delivery({ id: 'evt_0', run_id: 'run_1', type: 'queued', status: 'queued' }));
  assert.deepEqual(
    [step.body, queued.body],
    [
      { ok: true, outcome: 'step' },
      { ok: true, outcome: 'queued' },
    ],
  );
  assert.deepEqual(signals, []);
  assert.deepEqual([r.counts.steps, r.counts.queued, r.counts.signalled], [1, 1, 0]);
  await r.handle(delivery({ id: 'evt_0', run_id: 'run_1', type: 'queued', status: 'queued' }));
  assert.equal(r.counts.duplicates, 1, 'a queued event delivered again is a duplicate');
});

test('every forgery is refused with a 4xx, counted by reason, and nothing is signalled', async () => {
  const signals: Array<[string, RunStateChange]> = [];
  const r = receiver(signals);
  const forged = [
    delivery(running, { secret: 'whsec_attacker' }),
    delivery(running, { body: JSON.stringify({ ...running, status: 'succeeded' }) }),
    delivery(running, { at: t - 3600 }),
    { ...delivery(running), headers: { 'coasty-event-id': 'evt_1' } },
    delivery(running, { workflow: 'wf-stranger', token: routeToken(SECRET, 'wf-1') }),
    { ...delivery(running), query: { workflow: 'wf-1' } },
    delivery({ id: 'evt_x', run_id: 'run_1', type: 'running', status: 'exploded' }),
  ];
  const answers = await Promise.all(forged.map((d) => r.handle(d)));
  for (const answer of answers)
    assert.ok(answer.status >= 400 && answer.status < 500, JSON.stringify(answer));
  assert.deepEqual(signals, []);
  assert.deepEqual(r.counts.refused, { missing: 1, malformed: 0, stale: 1, mismatch: 2, route: 2, body: 1 });
});

test('a replay within the signature window is a duplicate; after it, stale', async () => {
  let now = NOW;
  const signals: Array<[string, RunStateChange]> = [];
  const r = receiver(signals, () => now);
  const captured = delivery(running);
  await r.handle(captured);
  now += 60_000;
  assert.equal((await r.handle(captured)).status, 200);
  now += 10 * 60_000;
  assert.equal((await r.handle(captured)).status, 401);
  assert.equal(signals.length, 1);
  assert.deepEqual([r.counts.duplicates, r.counts.refused.stale], [1, 1]);
});

test('a signal that fails is a 503 (the API delivers again) and is not remembered as done', async () => {
  let fail = true;
  const r = new WebhookReceiver({
    secret: SECRET,
    now: () => NOW,
    signal: async () => {
      if (fail) throw new Error('Temporal is unreachable');
      return 'signalled';
    },
  });
  assert.equal((await r.handle(delivery(running))).status, 503);
  fail = false;
  const retried = await r.handle(delivery(running));
  assert.equal(retried.status, 200);
  assert.deepEqual(retried.body, { ok: true, outcome: 'signalled' });
});

test('COASTY_WEBHOOK_URL and COASTY_WEBHOOK_SECRET: both or neither, and a URL without a query', () => {
  assert.equal(webhookSettingsFromEnv({}), undefined);
  assert.deepEqual(
    webhookSettingsFromEnv({
      COASTY_WEBHOOK_URL: 'https://x.example/webhooks/runs',
      COASTY_WEBHOOK_SECRET: 's',
    }),
    { url: 'https://x.example/webhooks/runs', secret: 's' },
  );
  assert.throws(
    () => webhookSettingsFromEnv({ COASTY_WEBHOOK_URL: 'https://x.example/webhooks/runs' }),
    /COASTY_WEBHOOK_SECRET is not set/,
  );
  assert.throws(
    () => webhookSettingsFromEnv({ COASTY_WEBHOOK_URL: 'x.example', COASTY_WEBHOOK_SECRET: 's' }),
    /COASTY_WEBHOOK_URL is not a URL/,
  );
  assert.throws(
    () =>
      webhookSettingsFromEnv({ COASTY_WEBHOOK_URL: 'https://x.example/?a=1', COASTY_WEBHOOK_SECRET: 's' }),
    /must not carry a query/,
  );
});
