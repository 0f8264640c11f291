// runBatch continues as new when the server suggests it, and loses nothing on the way.
// This file starts its own dev server whose suggestion comes at 100 events instead of 4,096.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../dev/dev-server';
import { RunsClient } from '../../api/runs-client';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { testWorkflowBundle } from '../helpers/workflow-bundle';
import { createWorker } from '../../worker';
import { runBatch } from '../../workflows/run-batch';
import {
  decideUpdate,
  progressQuery,
  type AgentRunProgress,
  type BatchProgress,
} from '../../workflows/messages';
import { uniqueTaskQueue } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { batch } from './specs';

const SUGGEST_AT = 100;
let server: DevServer;
let env: TestWorkflowEnvironment;
let emulator: RunningEmulator;
let worker: Worker;
let running: Promise<void>;
let client: RunsClient;
const taskQueue = uniqueTaskQueue('batch-can');

before(async () => {
  server = await startDevServer({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AT } });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  emulator = await startEmulator({ config: { machines: 4, agent: { paceMs: 1 } } });
  client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
  worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    client,
    env: {},
    workflowBundle: testWorkflowBundle(),
  });
  running = worker.run();
});
after(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await client?.close();
  await emulator?.stop();
  await env?.teardown();
  await server?.stop();
});

test('a batch continues as new, carrying its state; every item is run exactly once', async (t) => {
  const items = 60;
  const handle = await env.client.workflow.start(runBatch, {
    taskQueue,
    workflowId: `batch-can-${process.pid}`,
    args: [batch(items, { concurrency: 4 })],
  });
  // Progress is answered by whichever run is current; the generation counts continue-as-new.
  await waitUntil(
    'a first continue-as-new',
    async () => ((await handle.query(progressQuery)) as BatchProgress).generation > 0,
  );
  const result = await handle.result();
  t.diagnostic(`${result.generations} runs (continue-as-new ${result.generations - 1} times)`);

  assert.ok(
    result.generations >= 2,
    `history of ${items} items at ${SUGGEST_AT} events a run: ${result.generations} runs`,
  );
  assert.equal(result.succeeded, items);
  assert.equal(result.failed + result.skipped, 0);
  assert.equal(result.costUsd, items * 0.05, 'the cost of earlier runs was carried');
  const counters = await emulator.admin.counters();
  assert.equal(counters.runs_created, items, 'each item made exactly one run');
  assert.equal(counters.idempotent_replays, 0);
  const runIds = new Set(result.items.map((item) => item.runId));
  assert.equal(runIds.size, items);
  for (const item of result.items) {
    const truth = await emulator.admin.run(item.runId!);
    assert.equal(truth.run.task, `Verify invoice ${item.key} [steps=1]`);
  }

  const description = await handle.describe();
  assert.notEqual(
    description.runId,
    description.raw.workflowExecutionInfo?.firstRunId ?? '',
    'the last run is not the first',
  );
});

test('the continue-as-new drain waits for an item paused for a person, launching nothing, then goes on (audit B3)', async () => {
  const items = 40;
  const workflowId = `batch-can-drain-${process.pid}`;
  await emulator.admin.script({ match: 'Verify invoice inv-002 ', humanAt: 1, times: 1 });
  const handle = await env.client.workflow.start(runBatch, {
    taskQueue,
    workflowId,
    args: [batch(items, { concurrency: 4 })],
  });
  // Three free slots and items pending, yet nothing launches: only the drain holds launches back.
  const draining = await waitUntil('the drain to wait for the paused item alone', async () => {
    const now = (await handle.query(progressQuery)) as BatchProgress;
    return now.generation === 0 &&
      now.pending > 0 &&
      now.inFlight.map((item) => item.key).join() === 'inv-002'
      ? now
      : undefined;
  });
  const paused = env.client.workflow.getHandle(`${workflowId}/inv-002`);
  const pause = (await paused.query(progressQuery)) as AgentRunProgress;
  assert.ok(pause.awaiting, 'the item in flight is the one waiting for a person');
  const still = (await handle.query(progressQuery)) as BatchProgress;
  assert.deepEqual([still.done, still.pending, still.running], [draining.done, draining.pending, 1]);

  await paused.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by: 'ops', requestId: pause.awaiting.requestId }],
  });
  const result = await handle.result();
  assert.ok(result.generations >= 2, 'the drain ended in a continue-as-new');
  assert.equal(result.succeeded, items, 'every item ran, the paused one included');
});
