// The app's own test, offline: coasty-temporal's emulator as the runs API, a Temporal server at
// TEMPORAL_ADDRESS (default 127.0.0.1:7233, e.g. `temporal server start-dev`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { humanInputSignal } from 'coasty-temporal/workflow';
import { startEmulator, type RunningEmulator } from 'coasty-temporal/emulator';
import { createAppWorker } from '../src/worker.js';
import { payInvoice, waitingForApprovalQuery } from '../src/workflows.js';

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const taskQueue = `own-app-test-${process.pid}`;
let emulator: RunningEmulator;
let native: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  emulator = await startEmulator({ port: 0, config: { agent: { paceMs: 5 } } });
  native = await NativeConnection.connect({ address });
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  worker = await createAppWorker({
    connection: native,
    taskQueue,
    coasty: { baseUrl: emulator.baseUrl, apiKey: emulator.apiKey },
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await native?.close();
  await emulator?.stop();
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('pays an invoice: a checked download, two look-ups at once, a person approves, the app keeps its own createRun', async () => {
  const handle = await client.workflow.start(payInvoice, {
    taskQueue,
    workflowId: `own-app-${process.pid}-${Date.now()}`,
    args: [{ invoiceId: 'INV-1042', machines: ['m-1', 'm-2'] }],
  });
  await waitUntil('the approval question', () => handle.query(waitingForApprovalQuery));
  await handle.signal(humanInputSignal, { action: 'approve', by: 'ap-clerk', message: 'matches the PO' });
  const result = await handle.result();

  assert.equal(result.checked, true);
  assert.deepEqual(
    result.lookups.map((run) => run.status),
    ['succeeded', 'succeeded'],
  );
  assert.equal(result.decision?.by, 'ap-clerk');
  assert.equal(result.payment?.status, 'succeeded');
  assert.equal(result.payment?.steps, 2);
  assert.equal(result.ticket, 'ticket: paid INV-1042', 'the app’s own createRun ran, not coasty’s');

  const counters = emulator.counters();
  assert.equal(counters.runs_created, 4, 'one run per agentRun: download, two look-ups, payment');
  assert.equal(counters.steps_billed, 3 + 2 + 2 + 2);
  assert.ok(counters.machine_max_concurrency['m-1']! >= 1 && counters.machine_max_concurrency['m-2']! >= 1);
});
