import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunsClient } from '../../api/runs-client';
import { SnapshotReader } from '../../client/snapshot';
import { decideUpdate, progressQuery, type AgentRunProgress } from '../../workflows/messages';
import { waitUntil } from '../helpers/wait';
import { startWebhookStack, type WebhookStack } from './helpers';

let hooks: WebhookStack;
before(async () => {
  hooks = await startWebhookStack('webhooks');
});
after(() => hooks?.stop());

const id = (name: string) => `webhooks-${process.pid}-${name}`;

async function historyOf(workflowId: string) {
  const history = await hooks.stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

test('a run with webhook delivery succeeds with the steps and cost the API billed, in history O(state changes)', async () => {
  const before = await hooks.stack.emulator.admin.counters();
  const handle = await hooks.startRun(id('plain'), { task: 'Download the invoice [steps=30]' });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 30);
  assert.equal(result.costUsd, 1.5);
  const truth = await hooks.stack.emulator.admin.run(result.runId);
  assert.equal(truth.run.steps, 30);
  assert.equal(truth.run.cost_usd, 1.5);
  assert.equal(result.result, truth.run.result);
  assert.ok(result.delivery.webhook, 'the result says how the events came');
  assert.ok(result.delivery.webhook.reads >= 1, 'the end is trusted only after reading the run');
  const events = await historyOf(handle.workflowId);
  assert.ok(events.length < 35, `30 steps make no history of their own (${events.length} events)`);
  // Each read ran inside the workflow task that wanted it: a local activity's marker, no activity task.
  assert.equal(events.filter((event) => event.activityTaskScheduledEventAttributes).length, 0);
  const markers = events.filter(
    (event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  );
  assert.equal(
    markers.length,
    1 + result.delivery.webhook.reads,
    'createRun and each read: a local activity',
  );
  const counters = await hooks.stack.emulator.admin.counters();
  assert.equal(counters.stream_connections, before.stream_connections, 'no stream was opened');
  assert.ok(counters.webhook_deliveries >= 32, 'every event was delivered');
});

test('a pause is told by webhook and decided by update; the run resumes with that decision', async () => {
  const handle = await hooks.startRun(id('pause'), { task: 'Pay the invoice [steps=5] [human@3]' });
  const progress = await waitUntil('the run to wait for a person', async () => {
    const now = (await handle.query(progressQuery)) as AgentRunProgress;
    return now.status === 'awaiting_human' && now.awaiting ? now : undefined;
  });
  assert.equal(progress.steps, 2, 'the run object said how far it got');
  assert.ok(progress.awaiting!.reason.length > 0);
  assert.ok(progress.awaiting!.proposedAction, 'the proposed action comes from the awaiting_human event');
  const events = await hooks.stack.emulator.admin.runEvents(progress.runId!);
  const asked = events.find((event) => event.type === 'awaiting_human')!;
  assert.equal(progress.awaiting!.requestId, asked.id, 'the pause is named by its event, as with a stream');
  const ack = await handle.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by: 'ana', requestId: progress.awaiting!.requestId }],
  });
  assert.equal(ack.accepted, true);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 5);
  assert.deepEqual(
    result.approvals.map((a) => [a.action, a.by]),
    [['approve', 'ana']],
  );
});

test('a cancelled workflow cancels its run, and says what it cost', async () => {
  const handle = await hooks.startRun(id('cancel'), { task: 'Wait for the portal [steps=8] [hold@4]' });
  const [held] = await hooks.stack.emulator.admin.waitForHolds('the run to reach its hold', (h) =>
    h.some((run) => run.task.includes('Wait for the portal')),
  );
  await handle.cancel();
  await assert.rejects(handle.result());
  const truth = await hooks.stack.emulator.admin.run(held!.run_id);
  assert.equal(truth.run.status, 'cancelled');
  assert.equal(truth.run.steps, 3);
});

test("a reader with the runs API sees a webhook run's steps live, though the workflow read none of them", async () => {
  const handle = await hooks.startRun(id('live'), { task: 'Sort the mail [steps=6] [hold@5] (live)' });
  const [held] = await hooks.stack.emulator.admin.waitForHolds('the run at its hold', (h) =>
    h.some((run) => run.task.includes('(live)')),
  );
  const runs = new RunsClient({ baseUrl: hooks.stack.emulator.baseUrl, apiKey: hooks.stack.emulator.apiKey });
  try {
    const progress = (await handle.query(progressQuery)) as AgentRunProgress;
    assert.equal(progress.delivery, 'webhook');
    assert.ok(
      progress.steps < 4,
      `the workflow has not read the run since it started (${progress.steps} steps)`,
    );
    const live = await new SnapshotReader(hooks.stack.env.client, handle.workflowId, { runs }).read();
    assert.equal(live.lines[0]!.steps, 4);
    assert.equal(live.lines[0]!.costUsd, 0.2);
    const without = await new SnapshotReader(hooks.stack.env.client, handle.workflowId).read();
    assert.equal(without.lines[0]!.steps, progress.steps, 'without the API: the last read');
  } finally {
    await runs.close();
  }
  await hooks.stack.emulator.admin.release({ runId: held!.run_id });
  assert.equal((await handle.result()).steps, 6);
});
