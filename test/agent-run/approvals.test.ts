import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { agentRun, type AgentRunInput } from '../../workflows/agent-run';
import {
  decideUpdate,
  humanInputSignal,
  progressQuery,
  type AgentRunProgress,
} from '../../workflows/messages';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'approvals',
    emulator: { config: { machines: 16, agent: { paceMs: 5 } } },
  });
});
after(() => stack?.stop());

let seq = 0;
function start(input: Partial<AgentRunInput> & { task: string }) {
  seq += 1;
  const { task, ...rest } = input;
  return stack.env.client.workflow.start(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId: `approvals-${process.pid}-${seq}`,
    args: [{ request: { machine_id: `m-${seq}`, task, max_steps: 50 }, ...rest }],
  });
}

async function waitForPause(
  handle: Pick<Awaited<ReturnType<typeof start>>, 'query'>,
): Promise<AgentRunProgress> {
  return waitUntil('the run to wait for a person', async () => {
    const progress = (await handle.query(progressQuery)) as AgentRunProgress;
    return progress.status === 'awaiting_human' && progress.awaiting ? progress : undefined;
  });
}

test('a run without a pause succeeds with its steps, cost and result', async () => {
  const handle = await start({ task: 'Download the invoice [steps=4]' });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 4);
  assert.equal(result.costUsd, 0.2);
  assert.ok(result.result && result.result.length > 0);
  assert.deepEqual(result.approvals, []);
  const truth = await stack.emulator.admin.run(result.runId);
  assert.equal(truth.run.steps, 4);
  assert.equal(truth.run.status, 'succeeded');
});

test('awaiting_human pauses the workflow; approve by signal resumes it to success', async () => {
  const handle = await start({ task: 'Pay the invoice [steps=5] [human@2]' });
  const progress = await waitForPause(handle);
  assert.equal(progress.steps, 1, '[human@2] asks before step 2');
  assert.ok(progress.awaiting!.reason.length > 0);
  await handle.signal(humanInputSignal, { action: 'approve', message: 'go ahead', by: 'ana' });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 5);
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.action, 'approve');
  assert.equal(result.approvals[0]!.by, 'ana');
  assert.equal(result.approvals[0]!.requestId, progress.awaiting!.requestId);
  const events = await stack.emulator.admin.runEvents(result.runId);
  const resumed = events.find((event) => event.type === 'running' && event.payload?.resumed_by === 'approve');
  assert.equal(resumed?.payload?.message, 'go ahead');
});

test('reject ends the run as failed with rejected_by_human, as a result', async () => {
  const handle = await start({ task: 'Delete the account [steps=5] [human@1]' });
  await waitForPause(handle);
  await handle.signal(humanInputSignal, { action: 'reject', message: 'no' });
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.type, 'rejected_by_human');
  assert.equal(result.approvals[0]!.action, 'reject');
});

test('approve by update; the update is refused while nothing waits for a person', async () => {
  const handle = await start({ task: 'Submit the form [steps=4] [human@3]' });
  await assert.rejects(
    handle.executeUpdate(decideUpdate, { args: [{ action: 'approve' }] }),
    (error: unknown) =>
      error instanceof WorkflowUpdateFailedError &&
      /not waiting for a person/.test(String((error as Error).cause)),
  );
  const progress = await waitForPause(handle);
  await assert.rejects(
    handle.executeUpdate(decideUpdate, { args: [{ action: 'maybe' as 'approve' }] }),
    (error: Error) => /action must be "approve" or "reject"/.test(String(error.cause)),
  );
  const ack = await handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'bo' }] });
  assert.deepEqual(ack, { requestId: progress.awaiting!.requestId, accepted: true });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals.length, 1, 'the refused updates left no trace');
});

test('an approval sent before the pause is ignored: the pause waits for a person who saw it; a duplicate is ignored', async () => {
  // Delivered with the start, in the first workflow task: before the run exists, so surely before its pause.
  seq += 1;
  const handle = await stack.env.client.workflow.signalWithStart(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId: `approvals-${process.pid}-${seq}`,
    args: [
      { request: { machine_id: `m-${seq}`, task: 'Send the payment [steps=4] [human@2]', max_steps: 50 } },
    ],
    signal: humanInputSignal,
    signalArgs: [{ action: 'approve', message: 'early' }],
  });
  const pause = await waitForPause(handle);
  await handle.signal(humanInputSignal, {
    action: 'approve',
    message: 'seen',
    requestId: pause.awaiting!.requestId,
  });
  await handle.signal(humanInputSignal, { action: 'reject', message: 'duplicate' });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.message, 'seen');
});

test('a message longer than the API accepts is refused by the update, before anything is sent', async () => {
  const handle = await start({ task: 'Send the payment [steps=3] [human@2]' });
  const pause = await waitForPause(handle);
  await assert.rejects(
    handle.executeUpdate(decideUpdate, {
      args: [{ action: 'reject', message: 'x'.repeat(10_001), requestId: pause.awaiting!.requestId }],
    }),
    (error: Error) => /accepts at most 10000/.test(String(error.cause)),
  );
  const truth = await stack.emulator.admin.run(pause.runId!);
  assert.equal(truth.run.status, 'awaiting_human', 'the run still waits: nothing was sent');
  await handle.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', requestId: pause.awaiting!.requestId }],
  });
  assert.equal((await handle.result()).status, 'succeeded');
});

test('two pauses are answered in order, each decision matched to its pause', async () => {
  const handle = await start({ task: 'Two checks [steps=6] [human@2] [human@4]' });
  const first = await waitForPause(handle);
  await handle.signal(humanInputSignal, {
    action: 'approve',
    requestId: first.awaiting!.requestId,
    message: 'one',
  });
  // The same decision again, by id, after the pause closed: ignored rather than applied to the next pause.
  await handle.signal(humanInputSignal, { action: 'reject', requestId: first.awaiting!.requestId });
  const second = await waitUntil('the second pause', async () => {
    const progress = (await handle.query(progressQuery)) as AgentRunProgress;
    return progress.awaiting && progress.awaiting.requestId !== first.awaiting!.requestId
      ? progress
      : undefined;
  });
  await handle.signal(humanInputSignal, {
    action: 'approve',
    requestId: second.awaiting!.requestId,
    message: 'two',
  });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    result.approvals.map((approval) => approval.message),
    ['one', 'two'],
  );
});
