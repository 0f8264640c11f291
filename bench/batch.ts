// Batch throughput: runBatch over N fast items (1 agent step each, emulator pace 0) at concurrency C,
// against a batch of N empty child workflows started the same way (bench/workflows/noop-batch.ts:
// same window, id scheme, policies and continue-as-new rule), on the same server and worker, in the
// same process run. Items per second: N / (start request -> result received), both measured alike.
//   node --import tsx bench/batch.ts [--full] [--items 1000] [--concurrency 100]
import type { BatchResult } from '../workflows/batch-state';
import type { BatchSpec } from '../workflows/process-types';
import { PROCESS_DEFAULTS } from '../workflows/process-types';
import type { Counters } from '../emulator/counters';
import { EmulatorAdmin } from '../emulator/admin-client';
import {
  bundleWorkflows,
  numberFlag,
  parseFlags,
  procStats,
  round,
  spawnBenchWorker,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['items', 'concurrency']);
const ITEMS = numberFlag(values.items, full ? 10_000 : 1_000);
const CONCURRENCY = numberFlag(values.concurrency, full ? 200 : 100);
const TIMEOUT_MS = Math.max(600_000, ITEMS * 500);

const bench = startResult('batch', 'runBatch throughput against empty child workflows', full, {
  items: ITEMS,
  concurrency: CONCURRENCY,
  steps_per_item: 1,
  emulator_pace_ms: 0,
});
if (!full && values.items === undefined) {
  bench.note(
    `Default size ${ITEMS} items at concurrency ${CONCURRENCY} to fit the time; --full runs 10,000 at 200.`,
  );
}

const machines = Array.from({ length: CONCURRENCY }, (_, i) => `m-${i + 1}`);
const spec: BatchSpec = {
  kind: 'batch',
  name: 'bench',
  inputs: {},
  taskTemplate: 'item {{item.n}} [steps=1]',
  items: Array.from({ length: ITEMS }, (_, i) => ({ key: String(i + 1), fields: { n: i + 1 } })),
  concurrency: CONCURRENCY,
  machines,
  stepDefaults: {
    maxSteps: PROCESS_DEFAULTS.maxSteps,
    onAwaitingHuman: PROCESS_DEFAULTS.onAwaitingHuman,
    approvalTimeoutSeconds: PROCESS_DEFAULTS.approvalTimeoutSeconds,
    approvalTimeoutPolicy: PROCESS_DEFAULTS.approvalTimeoutPolicy,
    onFailure: { policy: 'continue', maxRetries: 0 },
  },
  source: 'inline',
};

const temporalStack = await startTemporal();
const emu = await startEmulatorProcess({
  machines: CONCURRENCY,
  agent: { paceMs: 0 },
  stream: { maxOpenPerKey: null },
});
const admin = new EmulatorAdmin(emu.url, emu.adminKey);
const bundle = await bundleWorkflows('bench');
const taskQueue = uniqueId('batch');
const worker = await spawnBenchWorker({
  temporalAddress: temporalStack.server.address,
  baseUrl: emu.baseUrl,
  apiKey: emu.apiKey,
  taskQueue,
  bundlePath: bundle.codePath,
  maxConcurrentActivities: Math.max(CONCURRENCY * 2, 100),
});

interface Measured {
  seconds: number;
  itemsPerS: number;
  workerCpuS: number;
  serverCpuS: number;
  generations: number | null;
  ok: boolean;
  detail: string;
}

function row(name: string, m: Measured): (string | number)[] {
  const cpuMsPerItem = (m.workerCpuS * 1000) / ITEMS;
  return [
    name,
    round(m.seconds, 1),
    round(m.itemsPerS, 1),
    round(m.workerCpuS, 1),
    round(m.serverCpuS, 1),
    round(cpuMsPerItem, 2),
    m.detail,
  ];
}

async function measure(kind: 'noop' | 'runBatch'): Promise<Measured> {
  const w0 = procStats(worker.pid);
  const s0 = procStats(temporalStack.server.pid);
  const t0 = performance.now();
  const workflowId = uniqueId(kind);
  let generations: number | null = null;
  let ok: boolean;
  let detail: string;
  if (kind === 'noop') {
    const handle = await temporalStack.client.workflow.start('noopBatch', {
      taskQueue,
      workflowId,
      args: [ITEMS, CONCURRENCY],
    });
    const done = (await withTimeout('the no-op batch', handle.result(), TIMEOUT_MS)) as number;
    ok = done === ITEMS;
    detail = `${done} children completed`;
  } else {
    const handle = await temporalStack.client.workflow.start('runBatch', {
      taskQueue,
      workflowId,
      args: [spec],
    });
    const result = (await withTimeout('the batch', handle.result(), TIMEOUT_MS)) as BatchResult;
    generations = result.generations;
    ok = result.succeeded === ITEMS && result.failed === 0;
    detail = `${result.succeeded} succeeded, ${result.failed} failed, ${result.generations} generations, max in flight ${result.maxInFlight}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const w1 = procStats(worker.pid);
  const s1 = procStats(temporalStack.server.pid);
  console.error(`batch: ${kind}: ${ITEMS} in ${round(seconds, 1)} s (${detail})`);
  return {
    seconds,
    itemsPerS: ITEMS / seconds,
    workerCpuS: w1.cpuSeconds - w0.cpuSeconds,
    serverCpuS: s1.cpuSeconds - s0.cpuSeconds,
    generations,
    ok,
    detail,
  };
}

try {
  const countersBefore: Counters = await admin.counters();
  const noop = await measure('noop');
  const batch = await measure('runBatch');
  const counters = await admin.counters();
  const runs = counters.runs_created - countersBefore.runs_created;
  const ratio = batch.itemsPerS / noop.itemsPerS;
  bench.table({
    title: `${ITEMS.toLocaleString('en-US')} items at concurrency ${CONCURRENCY}, one worker process`,
    columns: ['batch', 'seconds', 'items/s', 'worker CPU s', 'server CPU s', 'worker CPU ms/item', 'result'],
    rows: [row('empty child workflows (noopBatch)', noop), row('runBatch, 1-step runs (pace 0)', batch)],
  });
  bench.goal({
    goal: 'runBatch at least half the items/s of empty children',
    met: batch.ok && noop.ok && ratio >= 0.5,
    measured: `${round(ratio, 2)} x (${round(batch.itemsPerS, 1)} vs ${round(noop.itemsPerS, 1)} items/s); ${runs} runs created for ${ITEMS} items`,
  });
  bench.note(
    'Each runBatch item is a child workflow (batchItem = agentRun) with a local activity (createRun), an activity (streamRun) and ' +
      'an HTTP stream; an empty child is one workflow task. Both batches continue-as-new when the server suggests it.',
  );
  bench.result.raw = { noop, batch, runs_created: runs };
} finally {
  await worker.stop();
  await temporalStack.stop();
  await bundle.cleanup();
  await emu.stop();
}
await bench.finish();
