// Webhook delivery end to end through serve: its receiver takes the emulator's deliveries, and its
// API takes the person's decision. The same chain and batch in stream mode, on the same emulator
// seed, give the same results.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runBatch } from '../../workflows/run-batch';
import { runChain } from '../../workflows/run-chain';
import type { BatchSpec, ChainSpec, Delivery } from '../../workflows/process-types';
import { batch } from '../batch/specs';
import { agent, chain } from '../chain/specs';
import { waitUntil } from '../helpers/wait';
import { startServeWithWebhooks } from './helpers';

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
let s: Awaited<ReturnType<typeof startServeWithWebhooks>>;
let seq = 0;

before(async () => {
  s = await startServeWithWebhooks('webhook-processes', { COASTY_SERVE_TOKENS: `ana=${TOKEN}` });
});
after(() => s?.stop());

const api = (path: string, init: { method?: string; json?: unknown } = {}) =>
  fetch(new URL(path, s.serve.url), {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(init.json ? { 'content-type': 'application/json' } : {}),
    },
    body: init.json ? JSON.stringify(init.json) : undefined,
  });

function invoiceChain(delivery: Delivery): ChainSpec {
  return chain([
    agent('check', 'Check the invoice [steps=3]', { delivery, machineId: 'm-1' }),
    agent('pay', 'Pay the invoice [steps=4] [human@2]', { delivery, machineId: 'm-2' }),
  ]);
}

/**
 * What must not depend on how events arrived: run ids, event ids (the emulator numbers events across
 * all runs; a pause is named by its event in both modes), times and delivery statistics left out.
 */
function comparable<T>(value: T, runIds: string[]): unknown {
  let json = JSON.stringify(value).replace(/evt_\d+/g, 'evt');
  for (const [i, id] of runIds.entries()) json = json.split(id).join(`run#${i}`);
  return JSON.parse(json, (key, v) => (['at', 'workflowId', 'delivery'].includes(key) ? undefined : v));
}

async function chainThroughServe(delivery: Delivery) {
  seq += 1;
  const handle = await s.stack.env.client.workflow.start(runChain, {
    taskQueue: s.stack.taskQueue,
    workflowId: `webhook-chain-${process.pid}-${seq}`,
    args: [invoiceChain(delivery)],
  });
  const waiting = await waitUntil('the pause in the inbox', async () => {
    const { items } = (await (await api('/api/inbox')).json()) as {
      items: Array<{ processId: string; requestId: string }>;
    };
    return items.find((item) => item.processId === handle.workflowId);
  });
  const decided = await api(`/api/processes/${handle.workflowId}/decisions`, {
    method: 'POST',
    json: { action: 'approve', requestId: waiting.requestId, message: 'paid' },
  });
  assert.equal(decided.status, 200, await decided.clone().text());
  return handle.result();
}

test('a chain with a pause approved through serve: webhook delivery gives what stream delivery gives', async () => {
  const byWebhook = await chainThroughServe('webhook');
  await s.stack.emulator.admin.reset(); // the same seed from the start: the same agent, step by step
  const byStream = await chainThroughServe('stream');
  assert.equal(byWebhook.status, 'succeeded');
  assert.deepEqual(
    byWebhook.steps.map((step) => [step.id, step.state, step.steps, step.costUsd]),
    [
      ['check', 'succeeded', 3, 0.15],
      ['pay', 'succeeded', 4, 0.2],
    ],
  );
  assert.deepEqual(
    byWebhook.approvals.map((a) => [a.stepId, a.action, a.by, a.message]),
    [['pay', 'approve', 'ana', 'paid']],
  );
  const ids = (result: typeof byWebhook) => result.steps.map((step) => step.runId!);
  assert.deepEqual(comparable(byWebhook, ids(byWebhook)), comparable(byStream, ids(byStream)));
  assert.ok(s.serve.webhooks!.receiver.counts.signalled > 0, "serve's receiver signalled");
});

async function runInvoiceBatch(delivery: Delivery) {
  seq += 1;
  const spec: BatchSpec = batch(8, {
    taskTemplate: 'Verify invoice {{item.id}} [steps=3]',
    stepDefaults: { ...batch(0).stepDefaults, ...(delivery === 'webhook' ? { delivery } : {}) },
  });
  return s.stack.env.client.workflow.execute(runBatch, {
    taskQueue: s.stack.taskQueue,
    workflowId: `webhook-batch-${process.pid}-${seq}`,
    args: [spec],
  });
}

test('a batch of 8 with webhook delivery: every item succeeds, billed as with stream delivery', async () => {
  await s.stack.emulator.admin.reset();
  const byWebhook = await runInvoiceBatch('webhook');
  await s.stack.emulator.admin.reset();
  const byStream = await runInvoiceBatch('stream');
  assert.equal(byWebhook.succeeded, 8);
  assert.equal(byWebhook.costUsd, 8 * 0.15);
  const runIds = (result: typeof byWebhook) => result.items.map((item) => item.runId ?? '');
  assert.deepEqual(comparable(byWebhook, runIds(byWebhook)), comparable(byStream, runIds(byStream)));
});
