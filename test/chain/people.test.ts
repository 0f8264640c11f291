// runChain with people in the loop: approval gates (approve, reject, each timeout policy),
// decisions forwarded to a child run that waits, cancellation, and the budget.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { runChain } from '../../workflows/run-chain';
import {
  decideUpdate,
  humanInputSignal,
  progressQuery,
  raiseBudgetUpdate,
  type AgentRunProgress,
  type ChainProgress,
} from '../../workflows/messages';
import type { ChainSpec } from '../../workflows/process-types';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { agent, chain, gate } from './specs';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'chain-people',
    emulator: { config: { machines: 8, agent: { paceMs: 2 } } },
  });
});
after(() => stack?.stop());

let seq = 0;
function start(spec: ChainSpec) {
  seq += 1;
  return stack.env.client.workflow.start(runChain, {
    taskQueue: stack.taskQueue,
    workflowId: `chain-people-${process.pid}-${seq}`,
    args: [spec],
  });
}

type ChainHandle = WorkflowHandle<typeof runChain>;

function progress(handle: ChainHandle): Promise<ChainProgress> {
  return handle.query(progressQuery) as Promise<ChainProgress>;
}

async function coastyStatus(handle: WorkflowHandle): Promise<unknown> {
  const description = await handle.describe();
  return description.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'CoastyStatus')?.value;
}

function waitForGate(handle: ChainHandle, gateId: string) {
  return waitUntil(`gate ${gateId} to wait`, async () => {
    const now = await progress(handle);
    return now.awaiting?.requestId === gateId ? now : undefined;
  });
}

function childOf(handle: ChainHandle, stepId: string) {
  return stack.env.client.workflow.getHandle(`${handle.workflowId}/${stepId}`);
}

const payChain = (over: Parameters<typeof gate>[2] = {}) =>
  chain([
    agent('check', 'Check the invoice [steps=2]'),
    gate('review', 'Invoice check: {{steps.check.result}} Pay it?', over),
    agent('pay', 'Pay the invoice [steps=1]'),
  ]);

test('a gate shows in progress and the search attribute; approve by update continues the chain', async () => {
  const handle = await start(payChain());
  const waiting = await waitForGate(handle, 'review');
  assert.equal(waiting.status, 'awaiting_human');
  assert.match(waiting.awaiting!.reason, /^Invoice check: Done in 2 steps: Check the invoice\. .* Pay it\?$/);
  assert.equal(waiting.steps[1]!.state, 'awaiting_approval');
  assert.equal(await coastyStatus(handle), 'awaiting_human');

  await assert.rejects(
    handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', requestId: 'pay' }] }),
    (error: Error) =>
      error instanceof WorkflowUpdateFailedError && /not the open one/.test(String(error.cause)),
  );
  const ack = await handle.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by: 'ana', message: 'ok' }],
  });
  assert.deepEqual(ack, { requestId: 'review', accepted: true });

  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    result.steps.map((step) => step.state),
    ['succeeded', 'approved', 'succeeded'],
  );
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.stepId, 'review');
  assert.equal(result.approvals[0]!.by, 'ana');
  assert.equal(await coastyStatus(handle), 'succeeded');
  // What serve's process page shows while a chain runs: who decided its gates so far.
  const progress = (await handle.query(progressQuery)) as ChainProgress;
  assert.deepEqual(
    progress.approvals?.map(({ stepId, by, message }) => ({ stepId, by, message })),
    [{ stepId: 'review', by: 'ana', message: 'ok' }],
  );
});

test('a gate rejected by signal stops the chain as failed', async () => {
  const handle = await start(payChain());
  await waitForGate(handle, 'review');
  await handle.signal(humanInputSignal, { action: 'reject', message: 'wrong amount', requestId: 'review' });
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    result.steps.map((step) => step.state),
    ['succeeded', 'rejected', 'skipped'],
  );
  assert.equal(result.steps[1]!.error?.type, 'rejected_by_human');
  assert.equal(result.approvals[0]!.message, 'wrong amount');
});

test('gate timeout, policy reject: the step is rejected and the chain fails', async () => {
  const handle = await start(payChain({ timeoutSeconds: 1, timeoutPolicy: 'reject' }));
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.steps[1]!.state, 'rejected');
  assert.equal(result.approvals[0]!.timedOut, true);
  assert.equal(result.steps[2]!.state, 'skipped');
});

test('gate timeout, policy cancel: the chain ends cancelled', async () => {
  const handle = await start(payChain({ timeoutSeconds: 1, timeoutPolicy: 'cancel' }));
  const result = await handle.result();
  assert.equal(result.status, 'cancelled');
  assert.equal(result.steps[1]!.state, 'cancelled');
  assert.equal(await coastyStatus(handle), 'cancelled');
});

test('gate timeout, policy fail: the chain workflow fails with ApprovalTimedOut', async () => {
  const handle = await start(payChain({ timeoutSeconds: 1, timeoutPolicy: 'fail' }));
  await assert.rejects(
    handle.result(),
    (error: Error) =>
      error instanceof WorkflowFailedError &&
      error.cause instanceof ApplicationFailure &&
      error.cause.type === 'ApprovalTimedOut',
  );
  assert.equal(await coastyStatus(handle), 'failed');
});

test('a decision sent to the chain reaches the child run that waits for a person', async () => {
  const handle = await start(chain([agent('submit', 'Submit the form [steps=3] [human@2]')]));
  const child = childOf(handle, 'submit');
  const pause = await waitUntil('the child run to wait for a person', async () => {
    const now = (await child.query(progressQuery)) as AgentRunProgress;
    return now.awaiting ? now.awaiting : undefined;
  });
  assert.equal(await coastyStatus(child), 'awaiting_human');
  await assert.rejects(
    handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'bo' }] }),
    (error: Error) => /name the pause you answer/.test(String(error.cause)),
    'an unnamed decision could answer a later pause nobody saw',
  );
  const ack = await handle.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by: 'bo', requestId: pause.requestId }],
  });
  assert.deepEqual(ack, { requestId: pause.requestId, accepted: true, forwardedTo: child.workflowId });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.requestId, pause.requestId);
  assert.equal(result.approvals[0]!.stepId, 'submit');
  assert.equal(result.approvals[0]!.by, 'bo');
});

test('a person rejecting a child run is not retried, even with on_failure retry', async () => {
  const handle = await start(
    chain([
      agent('delete', 'Delete the account [steps=3] [human@1]', {
        onFailure: { policy: 'retry', maxRetries: 2 },
      }),
    ]),
  );
  await waitUntil('the child run to wait', async () => {
    const now = (await childOf(handle, 'delete').query(progressQuery)) as AgentRunProgress;
    return now.awaiting !== undefined;
  });
  await handle.signal(humanInputSignal, { action: 'reject', message: 'no' });
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.steps[0]!.attempts, 1);
  assert.equal(result.steps[0]!.error?.type, 'rejected_by_human');
});

// The child waits for a person here: cancelling a run that is streaming works the same way but
// takes up to 24 s, the stream activity's heartbeat throttle (0.8 x its 30 s heartbeat timeout).
test('cancelling the chain cancels the running child and its remote run before the chain ends', async () => {
  const handle = await start(
    chain([agent('sign', 'Sign the contract [steps=5] [human@3]'), agent('next', 'Never [steps=1]')]),
  );
  const child = childOf(handle, 'sign');
  const runId = await waitUntil('the child run to wait for a person', async () => {
    const now = (await child.query(progressQuery)) as AgentRunProgress;
    return now.awaiting ? now.runId : undefined;
  });
  await handle.cancel();
  await assert.rejects(
    handle.result(),
    (error: Error) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure,
  );
  // No waiting here: the chain ended only after the child had cancelled the remote run.
  const truth = await stack.emulator.admin.run(runId!);
  assert.equal(truth.run.status, 'cancelled');
  assert.equal(truth.run.steps, 2);
  assert.equal((await child.describe()).status.name, 'CANCELLED');
  assert.equal(await coastyStatus(handle), 'cancelled');
  await assert.rejects(childOf(handle, 'next').describe(), /not found/i);
});

test('over budget the chain waits in awaiting_budget until the budget is raised', async () => {
  const handle = await start(
    chain(
      [
        agent('first', 'First job [steps=2]', { maxSteps: 4 }),
        agent('second', 'Second job [steps=2]', { maxSteps: 4 }),
      ],
      { maxCostCents: 20 },
    ),
  );
  const waiting = await waitUntil('the chain to wait for budget', async () => {
    const now = await progress(handle);
    return now.status === 'awaiting_budget' ? now : undefined;
  });
  assert.deepEqual(
    { neededUsd: waiting.budget!.neededUsd, maxCostUsd: waiting.budget!.maxCostUsd },
    { neededUsd: 0.3, maxCostUsd: 0.2 },
    'spent 0.10 + the next run at most 4 x 0.05',
  );
  assert.equal(waiting.steps[1]!.state, 'pending');
  assert.equal(await coastyStatus(handle), 'awaiting_budget');
  await assert.rejects(
    handle.executeUpdate(decideUpdate, { args: [{ action: 'approve' }] }),
    (error: Error) => /not waiting for a person/.test(String((error as WorkflowUpdateFailedError).cause)),
  );
  await assert.rejects(
    handle.executeUpdate(raiseBudgetUpdate, { args: [{ maxCostUsd: 0.2 }] }),
    (error: Error) =>
      /must be higher than the current USD 0.20/.test(String((error as WorkflowUpdateFailedError).cause)),
  );
  const raised = await handle.executeUpdate(raiseBudgetUpdate, { args: [{ maxCostUsd: 0.3, by: 'cfo' }] });
  assert.deepEqual(raised, { maxCostUsd: 0.3 });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.costUsd, 0.2);
});

test('a child run nobody answers, policy fail: its run is cancelled and the chain fails', async () => {
  const handle = await start(
    chain([
      agent('wire', 'Wire the money [steps=3] [human@2]', {
        approvalTimeoutSeconds: 1,
        approvalTimeoutPolicy: 'fail',
      }),
    ]),
  );
  await assert.rejects(
    handle.result(),
    (error: Error) =>
      error instanceof WorkflowFailedError &&
      error.cause instanceof ApplicationFailure &&
      error.cause.type === 'ApprovalTimedOut',
  );
  const child = await childOf(handle, 'wire').result();
  assert.equal(child.status, 'cancelled');
  assert.equal((await stack.emulator.admin.run(child.runId)).run.status, 'cancelled');
});
