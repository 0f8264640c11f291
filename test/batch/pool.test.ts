// runBatch: never two runs on one machine of the pool, never more than `concurrency` at once.
// The proof comes from the emulator: each run's machine, creation and end times.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Run } from '../../api/types';
import { runBatch, type BatchResult } from '../../workflows/run-batch';
import type { BatchSpec } from '../../workflows/process-types';
import { startStack, type TestStack } from '../helpers/stack';
import { batch } from './specs';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'batch-pool',
    emulator: { config: { machines: 8, agent: { paceMs: 1 } } },
  });
});
after(() => stack?.stop());

let seq = 0;
async function run(spec: BatchSpec): Promise<BatchResult> {
  seq += 1;
  return stack.env.client.workflow.execute(runBatch, {
    taskQueue: stack.taskQueue,
    workflowId: `batch-pool-${process.pid}-${seq}`,
    args: [spec],
  });
}

async function runsOf(result: BatchResult): Promise<Run[]> {
  return Promise.all(result.items.map(async (item) => (await stack.emulator.admin.run(item.runId!)).run));
}

/** The most runs that existed at once (created, not yet finished), overall and per machine. */
function maxOverlap(runs: Run[]): number {
  const edges = runs.flatMap((r) => [
    { at: Date.parse(r.created_at), delta: 1 },
    { at: Date.parse(r.finished_at!), delta: -1 },
  ]);
  // An end and a start in the same millisecond: the end comes first (the machine was free again).
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (now += edge.delta));
  return max;
}

test('200 items, concurrency 20, 4 machines: never two runs on one machine at once', async () => {
  const before = await stack.emulator.admin.counters();
  const result = await run(batch(200, { concurrency: 20 }));
  assert.equal(result.succeeded, 200);
  assert.equal(result.failed, 0);
  assert.ok(result.maxInFlight <= 4, `at most one child per machine (max in flight ${result.maxInFlight})`);

  const runs = await runsOf(result);
  const counters = await stack.emulator.admin.counters();
  assert.equal(counters.runs_created - before.runs_created, 200, 'one run per item');
  for (const machine of ['m-1', 'm-2', 'm-3', 'm-4']) {
    const onMachine = runs.filter((r) => r.machine_id === machine);
    assert.ok(onMachine.length > 0, `${machine} was used`);
    assert.equal(maxOverlap(onMachine), 1, `${machine} never had a run queued behind another`);
    assert.ok(counters.machine_max_concurrency[machine]! <= 1);
  }
  assert.deepEqual(new Set(runs.map((r) => r.machine_id)), new Set(['m-1', 'm-2', 'm-3', 'm-4']));
  assert.ok(maxOverlap(runs) <= 4);
});

test('concurrency below the pool size bounds the runs at once', async () => {
  const machines = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7', 'm-8'];
  const result = await run(
    batch(30, { concurrency: 3, machines, taskTemplate: 'Check {{item.id}} [steps=2]' }),
  );
  assert.equal(result.succeeded, 30);
  assert.equal(result.maxInFlight, 3);
  const runs = await runsOf(result);
  assert.ok(maxOverlap(runs) <= 3, `the emulator saw at most 3 runs at once (saw ${maxOverlap(runs)})`);
  assert.equal(result.costUsd, 3);
  assert.equal(result.items[0]!.key, 'inv-001');
  assert.equal(result.items[0]!.steps, 2);
  assert.match(result.items[0]!.result!, /^Done in 2 steps: Check inv-001\./);
});
