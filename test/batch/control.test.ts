// runBatch under control: pause and resume, a budget that runs out and is raised, retries,
// cancellation, and starting the same batch id again to redo only what failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { runBatch } from '../../workflows/run-batch';
import {
  decideUpdate,
  pauseSignal,
  progressQuery,
  raiseBudgetSignal,
  raiseBudgetUpdate,
  resumeSignal,
  type AgentRunProgress,
  type BatchProgress,
} from '../../workflows/messages';
import type { BatchSpec } from '../../workflows/process-types';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { batch } from './specs';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'batch-control',
    emulator: { config: { machines: 8, agent: { paceMs: 2 } } },
  });
});
after(() => stack?.stop());

let seq = 0;
function start(spec: BatchSpec, workflowId = `batch-control-${process.pid}-${++seq}`) {
  return stack.env.client.workflow.start(runBatch, { taskQueue: stack.taskQueue, workflowId, args: [spec] });
}

type BatchHandle = WorkflowHandle<typeof runBatch>;
const progress = (handle: BatchHandle) => handle.query(progressQuery) as Promise<BatchProgress>;
const runsCreated = async () => (await stack.emulator.admin.counters()).runs_created;

async function coastyStatus(handle: WorkflowHandle): Promise<unknown> {
  const description = await handle.describe();
  return description.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'CoastyStatus')?.value;
}

test('pause stops new children (those in flight finish); resume goes on', async () => {
  const before = await runsCreated();
  const handle = await start(
    batch(12, { concurrency: 2, machines: ['m-1', 'm-2'], taskTemplate: 'Do {{item.id}} [steps=3]' }),
  );
  await waitUntil('a first item done', async () => (await progress(handle)).done > 0);
  await handle.signal(pauseSignal);
  const paused = await waitUntil('in-flight children to finish', async () => {
    const now = await progress(handle);
    return now.paused && now.running === 0 ? now : undefined;
  });
  assert.equal(paused.status, 'paused');
  assert.ok(paused.pending > 0);
  assert.equal(await coastyStatus(handle), 'paused');
  // Another signal makes the workflow run again: had it been going to launch, it would now.
  await handle.signal(pauseSignal);
  const still = await progress(handle);
  assert.equal(still.running, 0);
  assert.equal(still.done, paused.done);
  assert.equal((await runsCreated()) - before, paused.done, 'no run was created while paused');

  await handle.signal(resumeSignal);
  const result = await handle.result();
  assert.equal(result.succeeded, 12);
  assert.equal((await runsCreated()) - before, 12);
  assert.equal(await coastyStatus(handle), 'completed');
});

test('over budget the batch waits in awaiting_budget; a raise lets it finish', async () => {
  // Worst case 4 steps x 5 cents = 20 cents a run; each run costs 10. Budget 50 cents: after 4 runs
  // (40 spent), 40 + 20 > 50 and nothing is in flight, so the batch waits.
  const handle = await start(
    batch(6, {
      concurrency: 2,
      machines: ['m-1', 'm-2'],
      taskTemplate: 'Do {{item.id}} [steps=2]',
      stepDefaults: { ...batch(0).stepDefaults, maxSteps: 4 },
      maxCostCents: 50,
    }),
  );
  const waiting = await waitUntil('the batch to wait for budget', async () => {
    const now = await progress(handle);
    return now.status === 'awaiting_budget' && now.running === 0 ? now : undefined;
  });
  assert.equal(waiting.done, 4);
  assert.equal(waiting.costUsd, 0.4);
  assert.deepEqual(
    { neededUsd: waiting.budget?.neededUsd, maxCostUsd: waiting.budget?.maxCostUsd },
    { neededUsd: 0.6, maxCostUsd: 0.5 },
  );
  assert.equal(await coastyStatus(handle), 'awaiting_budget');
  await assert.rejects(
    handle.executeUpdate(raiseBudgetUpdate, { args: [{ maxCostUsd: 0.4 }] }),
    (error: Error) =>
      error instanceof WorkflowUpdateFailedError && /must be higher/.test(String(error.cause)),
  );
  await handle.signal(raiseBudgetSignal, { maxCostUsd: 0.7, by: 'cfo' });
  const result = await handle.result();
  assert.equal(result.succeeded, 6);
  assert.equal(result.costUsd, 0.6);
});

test('on_failure retry: the item runs again under the same child id and succeeds', async () => {
  await stack.emulator.admin.script({ match: 'Retry inv-002 ', failAt: 1, times: 1 });
  const result = await (
    await start(
      batch(3, {
        taskTemplate: 'Retry {{item.id}} [steps=2]',
        stepDefaults: { ...batch(0).stepDefaults, onFailure: { policy: 'retry', maxRetries: 1 } },
      }),
    )
  ).result();
  assert.equal(result.succeeded, 3);
  assert.equal(result.items[1]!.attempts, 2);
  assert.equal(result.items[1]!.status, 'succeeded');
  assert.equal(result.items[0]!.attempts, undefined);
});

test('starting the same batch id again redoes only the items that failed', async () => {
  // The portal is down for two invoices the first time (each script is used by one run).
  await stack.emulator.admin.script(
    { match: 'Verify invoice inv-003 ', failAt: 1, times: 1 },
    { match: 'Verify invoice inv-007 ', failAt: 1, times: 1 },
  );
  const spec = batch(10);
  const workflowId = `batch-control-rerun-${process.pid}`;
  const first = await (await start(spec, workflowId)).result();
  assert.equal(first.succeeded, 8);
  assert.equal(first.failed, 2);
  assert.deepEqual(
    first.items.filter((item) => item.status === 'failed').map((item) => [item.key, item.error?.type]),
    [
      ['inv-003', 'agent_error'],
      ['inv-007', 'agent_error'],
    ],
  );

  const before = await runsCreated();
  const second = await (await start(spec, workflowId)).result();
  assert.equal(second.succeeded, 2);
  assert.equal(second.skipped, 8);
  assert.equal(second.failed, 0);
  assert.equal((await runsCreated()) - before, 2, 'only the two failed items made new runs');
  const redone = second.items.filter((item) => item.status === 'succeeded');
  assert.deepEqual(
    redone.map((item) => item.key),
    ['inv-003', 'inv-007'],
  );
  for (const item of redone) {
    assert.equal(
      (await stack.emulator.admin.run(item.runId!)).run.task,
      `Verify invoice ${item.key} [steps=1]`,
    );
  }
  assert.equal(second.costUsd, 0.1, 'the items done before cost nothing this time');
});

test('cancelling the batch cancels its running children and their remote runs', async () => {
  const handle = await start(
    batch(5, {
      concurrency: 2,
      machines: ['m-5', 'm-6'],
      taskTemplate: 'Ask {{item.id}} [steps=3] [human@2]',
    }),
  );
  const waiting = await waitUntil('two children waiting for a person', async () => {
    const now = await progress(handle);
    if (now.inFlight.length !== 2) return undefined;
    const children = await Promise.all(
      now.inFlight.map(
        async (item) =>
          (await stack.env.client.workflow
            .getHandle(item.workflowId)
            .query(progressQuery)) as AgentRunProgress,
      ),
    );
    return children.every((child) => child.awaiting) ? children : undefined;
  });
  await handle.cancel();
  await assert.rejects(
    handle.result(),
    (error: Error) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure,
  );
  for (const child of waiting) {
    assert.equal((await stack.emulator.admin.run(child.runId!)).run.status, 'cancelled');
  }
  assert.equal(await coastyStatus(handle), 'cancelled');
});

test('an item nobody answers in time (policy fail) fails, is not retried, and its run is cancelled', async () => {
  const result = await (
    await start(
      batch(2, {
        machines: ['m-7', 'm-8'],
        taskTemplate: 'Approve {{item.id}} [steps=2] [human@1]',
        stepDefaults: {
          ...batch(0).stepDefaults,
          approvalTimeoutSeconds: 1,
          approvalTimeoutPolicy: 'fail',
          onFailure: { policy: 'retry', maxRetries: 2 },
        },
      }),
    )
  ).result();
  assert.equal(result.failed, 2);
  for (const item of result.items) {
    assert.equal(item.error?.type, 'approval_timed_out');
    assert.equal(item.attempts, undefined, 'not retried');
    assert.equal((await stack.emulator.admin.run(item.runId!)).run.status, 'cancelled');
  }
});

test('a person\'s "no" is never retried within a run; a re-run of the batch id redoes that item (audit B2)', async () => {
  const workflowId = `batch-control-rejected-rerun-${process.pid}`;
  const spec = (taskTemplate: string) =>
    batch(2, {
      machines: ['m-7', 'm-8'],
      taskTemplate,
      stepDefaults: { ...batch(0).stepDefaults, onFailure: { policy: 'retry', maxRetries: 2 } },
    });
  const handle = await start(spec('Ask about {{item.id}} [steps=2] [human@1]'), workflowId);
  const children = ['inv-001', 'inv-002'].map((key) =>
    stack.env.client.workflow.getHandle(`${workflowId}/${key}`),
  );
  const pauses = await Promise.all(
    children.map((child) =>
      waitUntil('the item to wait for a person', async () => {
        const now = (await child.query(progressQuery).catch(() => undefined)) as AgentRunProgress | undefined;
        return now?.awaiting?.requestId;
      }),
    ),
  );
  await children[0]!.executeUpdate(decideUpdate, {
    args: [{ action: 'reject', by: 'ops', requestId: pauses[0]! }],
  });
  await children[1]!.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by: 'ops', requestId: pauses[1]! }],
  });
  const first = await handle.result();
  assert.deepEqual(
    first.items.map((item) => [item.key, item.status, item.attempts]),
    [
      ['inv-001', 'failed', undefined],
      ['inv-002', 'succeeded', undefined],
    ],
    'the rejected item failed once and was not retried',
  );

  const before = await runsCreated();
  const second = await (await start(spec('Ask about {{item.id}} [steps=1]'), workflowId)).result();
  assert.deepEqual(
    second.items.map((item) => [item.key, item.status]),
    [
      ['inv-001', 'succeeded'],
      ['inv-002', 'skipped'],
    ],
    'the re-run redid the rejected item and skipped the approved one',
  );
  assert.equal((await runsCreated()) - before, 1);
});
