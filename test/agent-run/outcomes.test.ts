import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { startAgentRun, waitForPause, waitForRunId } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let machine = 0;
const nextMachine = () => `m-${++machine}`;
before(async () => {
  stack = await startStack({
    label: 'outcomes',
    emulator: { config: { machines: 16, agent: { paceMs: 5 } } },
  });
});
after(() => stack?.stop());

for (const [policy, expected] of [
  ['reject', 'failed'],
  ['cancel', 'cancelled'],
] as const) {
  test(`approval timeout with policy ${policy} ends the run ${expected}`, async () => {
    const handle = await startAgentRun(stack, {
      task: 'Needs a person [steps=4] [human@2]',
      machine: nextMachine(),
      approvalTimeout: '1s',
      approvalTimeoutPolicy: policy,
    });
    const result = await handle.result();
    assert.equal(result.status, expected);
    if (policy === 'reject') assert.equal(result.error?.type, 'rejected_by_human');
    assert.equal(result.approvals.length, 1);
    assert.equal(result.approvals[0]!.timedOut, true);
    assert.equal((await stack.emulator.admin.run(result.runId)).run.status, expected);
  });
}

test('approval timeout with policy fail fails the workflow and cancels the remote run', async () => {
  const handle = await startAgentRun(stack, {
    task: 'Needs a person [steps=4] [human@2]',
    machine: nextMachine(),
    approvalTimeout: '1s',
    approvalTimeoutPolicy: 'fail',
  });
  const runId = await waitForRunId(handle);
  await assert.rejects(handle.result(), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'ApprovalTimedOut');
    return true;
  });
  assert.equal((await stack.emulator.admin.run(runId)).run.status, 'cancelled');
});

test('cancelling the workflow cancels the remote run', async () => {
  // The run waits before step 4 (an emulator hold): the cancel always meets it running.
  const handle = await startAgentRun(stack, {
    task: 'A long job [steps=2000] [hold@4]',
    machine: nextMachine(),
  });
  const runId = await waitForRunId(handle);
  await stack.emulator.admin.waitForHolds('the run held at step 4', (held) =>
    held.some((h) => h.run_id === runId),
  );
  await handle.cancel();
  await assert.rejects(
    handle.result(),
    (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure,
  );
  const truth = await stack.emulator.admin.run(runId);
  assert.equal(truth.run.status, 'cancelled');
  assert.equal(truth.run.steps, 3);
});

test('cancelling while the run waits for a person cancels the remote run', async () => {
  const handle = await startAgentRun(stack, { task: 'Wait [steps=4] [human@2]', machine: nextMachine() });
  await waitForPause(handle);
  const runId = await waitForRunId(handle);
  await handle.cancel();
  await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
  assert.equal((await stack.emulator.admin.run(runId)).run.status, 'cancelled');
});

for (const [mode, expected] of [
  ['fail', 'failed'],
  ['cancel', 'cancelled'],
] as const) {
  test(`on_awaiting_human ${mode}: the run ends ${expected} without waiting for anyone`, async () => {
    const handle = await startAgentRun(stack, {
      task: 'Needs a person [steps=4] [human@2]',
      request: {
        machine_id: nextMachine(),
        task: 'Needs a person [steps=4] [human@2]',
        on_awaiting_human: mode,
      },
    });
    const result = await handle.result();
    assert.equal(result.status, expected);
    assert.deepEqual(result.approvals, []);
  });
}

test('max_steps ends the run as timed_out, a result and not a crash', async () => {
  const handle = await startAgentRun(stack, {
    task: 'Never done [forever]',
    machine: nextMachine(),
    maxSteps: 5,
  });
  const result = await handle.result();
  assert.equal(result.status, 'timed_out');
  assert.equal(result.steps, 5);
  assert.equal(result.costUsd, 0.25);
  assert.ok(result.error?.message);
});

test('deadline_seconds ends the run as timed_out', async () => {
  // Time is the point here (the emulator's 1 s deadline); the hold before step 3 keeps the run from
  // finishing first however fast or slow the machine, and is never released.
  const task = 'Slow [steps=5] [hold@3]';
  const handle = await startAgentRun(stack, {
    task,
    request: { machine_id: nextMachine(), task, deadline_seconds: 1 },
  });
  const result = await handle.result();
  assert.equal(result.status, 'timed_out');
  assert.equal(result.steps, 2);
  assert.match(result.error?.message ?? '', /deadline_seconds \(1\)/);
});

test('a 4xx is not retried and its message reaches the caller', async () => {
  const before = await stack.emulator.admin.counters();
  const handle = await startAgentRun(stack, { task: 'Anything', machine: 'no-such-machine' });
  await assert.rejects(handle.result(), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    // createRun is a local activity: its failure is the workflow's cause, not wrapped in an ActivityFailure.
    const failure = error.cause;
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /machine_id/);
    return true;
  });
  const after = await stack.emulator.admin.counters();
  assert.equal(after.requests - before.requests, 1, 'createRun sent its POST once');
  assert.equal(after.runs_created, before.runs_created);
});

test('starting a finished workflow id again creates a new run, not a replay of the old one', async () => {
  const { agentRun } = await import('../../workflows/agent-run');
  const machineId = nextMachine();
  const start = () =>
    stack.env.client.workflow.execute(agentRun, {
      taskQueue: stack.taskQueue,
      workflowId: `${stack.taskQueue}-again`,
      args: [{ request: { machine_id: machineId, task: 'Same id twice [steps=2]' } }],
    });
  const first = await start();
  const second = await start();
  assert.notEqual(second.runId, first.runId);
  assert.equal(second.status, 'succeeded');
});
