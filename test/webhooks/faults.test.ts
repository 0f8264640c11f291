// Webhook delivery under the faults at-least-once delivery brings: a receiver that is down for
// longer than the API retries, down then up, duplicated and out-of-order deliveries, a receiver
// restarted (its memory of event ids gone), forged and replayed signatures. Every fault lands while
// the run waits at a hold of the emulator, so it is mid-run however slow the machine is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { signWebhook } from '../../emulator';
import { startWebhookServer, type RunningWebhookServer } from '../../serve/webhooks/server';
import { agentRun, type AgentRunInput } from '../../workflows/agent-run';
import { ACTIVITY_TYPE_NAMES } from '../../workflows/names';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { FAST_WEBHOOKS, webhookWorkerEnv } from './helpers';
import { Switchboard } from './switchboard';

let stack: TestStack;
let receiver: RunningWebhookServer;
let board: Switchboard;
let seq = 0;

before(async () => {
  stack = await startStack({
    label: 'webhook-faults',
    worker: false,
    emulator: { config: { machines: 16, agent: { paceMs: 5 }, webhooks: FAST_WEBHOOKS } },
  });
  receiver = await startReceiver();
  board = new Switchboard(receiver.url);
  await board.start();
  await stack.startWorker({ env: webhookWorkerEnv(board.url, stack.emulator.webhookSecret) });
});
after(async () => {
  await stack?.stop();
  await board?.stop();
  await receiver?.stop();
});

function startReceiver() {
  return startWebhookServer({ client: stack.env.client, secret: stack.emulator.webhookSecret, port: 0 });
}

function start(task: string, rest: Partial<AgentRunInput> = {}) {
  seq += 1;
  return stack.env.client.workflow.start(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId: `webhook-faults-${process.pid}-${seq}`,
    args: [{ request: { machine_id: `m-${seq}`, task, max_steps: 50 }, delivery: 'webhook', ...rest }],
  });
}

const heldRun = (tag: string) =>
  stack.emulator.admin.waitForHolds(`${tag} held`, (held) => held.some((h) => h.task.includes(tag)));

async function signalsIn(workflowId: string): Promise<number> {
  const { events } = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes).length;
}

/** The CoastyStatus values the workflow wrote, in order. */
async function statusesWritten(workflowId: string): Promise<string[]> {
  const { events } = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).flatMap((event) => {
    const field =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CoastyStatus;
    return field?.data ? [JSON.parse(Buffer.from(field.data).toString('utf8')) as string] : [];
  });
}

/** The events the API posted for a run but `step` and `queued`: what should reach the workflow, each once. */
async function stateChangesOf(runId: string): Promise<string[]> {
  const events = await stack.emulator.admin.runEvents(runId);
  return events.filter((event) => event.type !== 'step' && event.type !== 'queued').map((event) => event.id);
}

test('a receiver down for longer than the API retries: the runs still finish, through reconciliation', async () => {
  board.down = true;
  const before = await stack.emulator.admin.counters();
  try {
    const handles = await Promise.all(
      [1, 2, 3].map(() => start('Export the ledger [steps=6] [hold@3] (down)', { reconcileEvery: '1s' })),
    );
    // Held until the API has given up on a delivery of each run: those events are lost for good.
    await stack.emulator.admin.waitForHolds(
      'the three runs held',
      (held) => held.filter((h) => h.task.includes('(down)')).length === 3,
    );
    await waitUntil('the API to give up on three deliveries', async () => {
      const now = await stack.emulator.admin.counters();
      return now.webhook_failures - before.webhook_failures >= 3;
    });
    await stack.emulator.admin.release();
    const results = await Promise.all(handles.map((handle) => handle.result()));
    for (const result of results) {
      assert.equal(result.status, 'succeeded');
      assert.equal(result.steps, 6);
      assert.equal(result.costUsd, 0.3);
      assert.equal(result.delivery.webhook?.signals, 0, 'no webhook got through');
      assert.ok(result.delivery.webhook!.reads >= 1);
      const truth = await stack.emulator.admin.run(result.runId);
      assert.deepEqual([truth.run.steps, truth.run.status], [6, 'succeeded']);
    }
  } finally {
    board.down = false;
  }
});

test('down, then up again mid-run: the later deliveries reach the workflow (no reconciliation needed)', async () => {
  board.down = true;
  const handle = await start('Send the reminder [steps=6] [hold@4] (down-up)', { reconcileEvery: '1h' });
  const [held] = await heldRun('(down-up)');
  board.down = false;
  await stack.emulator.admin.release({ runId: held!.run_id });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 6);
  assert.ok(result.delivery.webhook!.signals >= 1, 'the end came by webhook');
});

test('duplicated, out-of-order and forged deliveries, and a receiver restarted mid-run: each state change counts once', async () => {
  // The running event is held back by the hop, to arrive for the first time after the steps that followed it.
  board.swallow = (body) => body.includes('"type":"running"');
  const handle = await start('Reconcile the account [steps=6] [hold@4] (dup)', { reconcileEvery: '1h' });
  const [held] = await heldRun('(dup)');
  const runId = held!.run_id;
  const ofRun = () => board.recorded.filter((d) => d.body.includes(`"run_id":"${runId}"`));
  // Deliveries are asynchronous: every event so far delivered and signalled before counting.
  await waitUntil('every event so far delivered', async () => {
    const sent = await stack.emulator.admin.runEvents(runId);
    const answered = new Set(
      ofRun()
        .filter((d) => d.status === 200 || d.status === 0)
        .map((d) => d.headers['coasty-event-id']),
    );
    return sent.every((event) => answered.has(event.id));
  });
  board.swallow = undefined;
  const late = ofRun().filter((d) => d.status === 0);
  assert.equal(late.length, 1, 'the running event was held back');
  assert.equal(await board.replay(late[0]!), 200, 'a late first delivery is taken');
  // A signal that arrives while a workflow task runs is written to history when that task ends:
  // the history is read once it holds every state change so far, never at a moment's guess.
  const changesSoFar = (await stateChangesOf(runId)).length;
  await waitUntil(`${changesSoFar} signals in history`, async () => {
    return (await signalsIn(handle.workflowId)) === changesSoFar;
  });
  const before = { ...receiver.receiver.counts };

  // The same deliveries again, newest first: the receiver drops them all.
  const again = ofRun().reverse();
  for (const delivery of again) assert.equal(await board.replay(delivery), 200);
  assert.equal(receiver.receiver.counts.signalled, before.signalled, 'a duplicate is not signalled again');
  // At least: the API may still be trying one of them again, after a slow answer timed out.
  assert.ok(receiver.receiver.counts.duplicates >= before.duplicates + again.length, 'each one dropped');

  // Forged: another secret, an altered body, an old signature, no signature: refused, nothing signalled.
  const [sample] = ofRun().filter((d) => d.body.includes('"type":"running"'));
  const now = Math.floor(Date.now() / 1000);
  const altered = sample!.body.replace('"status":"running"', '"status":"succeeded"');
  const forgeries = [
    { 'coasty-signature': signWebhook('whsec_attacker', now, sample!.body) },
    { 'coasty-signature': signWebhook(stack.emulator.webhookSecret, now - 3600, sample!.body) },
    { 'coasty-signature': '' },
  ];
  for (const headers of forgeries) assert.ok((await board.replay(sample!, headers)) >= 400);
  assert.ok((await board.replay({ ...sample!, body: altered })) >= 400);
  assert.equal(receiver.receiver.counts.signalled, before.signalled, 'no forgery reached the workflow');
  const refused = receiver.receiver.counts.refused;
  assert.equal(refused.mismatch + refused.stale + refused.missing + refused.malformed, 4);

  // A restarted receiver has forgotten the ids: it signals them again, and the workflow drops them.
  await receiver.stop();
  receiver = await startReceiver();
  board.target = receiver.url;
  for (const delivery of ofRun().reverse()) assert.equal(await board.replay(delivery), 200);
  assert.equal(receiver.receiver.counts.signalled, changesSoFar, 'the restarted receiver signalled again');
  await waitUntil('the signals again in history', async () => {
    return (await signalsIn(handle.workflowId)) === 2 * changesSoFar;
  });

  await stack.emulator.admin.release({ runId });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 6);
  assert.equal(result.costUsd, 0.3);
  const changes = await stateChangesOf(runId);
  assert.equal(result.delivery.webhook!.signals, changes.length, 'each state change counted once');
  const statuses = await statusesWritten(handle.workflowId);
  assert.deepEqual(
    statuses,
    ['creating', 'queued', 'running', 'succeeded'],
    'a late delivery never moved it back',
  );
  const truth = await stack.emulator.admin.run(runId);
  assert.equal(truth.run.steps, 6);
});

test('the runs API failing the read at the end: the read goes on as an activity, and the run ends as billed', async () => {
  const handle = await start('File the report [steps=5] [hold@3] (read-outage)', { reconcileEvery: '1h' });
  const [held] = await heldRun('(read-outage)');
  await stack.emulator.admin.setFaults({
    errors: [{ status: 503, rate: 1, retryAfterSeconds: 1, endpoints: ['get'] }],
  });
  let cleared = false;
  try {
    await stack.emulator.admin.release({ runId: held!.run_id });
    // The read inside the workflow task gave up after its 3 attempts: an activity retries it.
    await waitUntil(
      'the read to retry as an activity',
      async () => {
        const { raw } = await handle.describe();
        return raw.pendingActivities?.some(
          (activity) => activity.activityType?.name === ACTIVITY_TYPE_NAMES.getRunSummary,
        );
      },
      60_000,
    );
    await stack.emulator.admin.clearFaults();
    cleared = true;
    const result = await handle.result();
    assert.deepEqual([result.status, result.steps, result.costUsd], ['succeeded', 5, 0.25]);
    const { events } = await handle.fetchHistory();
    const reads = (events ?? []).filter(
      (event) =>
        event.activityTaskScheduledEventAttributes?.activityType?.name === ACTIVITY_TYPE_NAMES.getRunSummary,
    );
    assert.equal(reads.length, 1, 'one activity read, however many attempts it took');
  } finally {
    if (!cleared) await stack.emulator.admin.clearFaults();
  }
});
