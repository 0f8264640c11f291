import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentRun, waitForRunId } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';

let stack: TestStack;
let machine = 0;
const nextMachine = () => `m-${++machine}`;
before(async () => {
  stack = await startStack({
    label: 'delivery',
    emulator: { config: { machines: 16, agent: { paceMs: 2 } } },
  });
});
after(() => stack?.stop());

async function assertEachEventOnce(result: {
  runId: string;
  steps: number;
  delivery: { eventsHandled: number };
}) {
  const events = await stack.emulator.admin.runEvents(result.runId);
  assert.equal(result.delivery.eventsHandled, events.length, 'every event of the run handled exactly once');
  assert.equal(result.steps, events.filter((event) => event.type === 'step').length);
}

test('a stream dropped mid-run is resumed inside the same attempt and every event is handled once', async () => {
  await stack.emulator.admin.setFaults({ stream: { dropAfterEvents: 7, resendOnResume: 3 } });
  try {
    const handle = await startAgentRun(stack, { task: 'Drop me [steps=40]', machine: nextMachine() });
    const result = await handle.result();
    assert.equal(result.status, 'succeeded');
    assert.ok(result.delivery.reconnects >= 3, `reconnected ${result.delivery.reconnects} times`);
    assert.equal(
      result.delivery.streamRetries,
      0,
      'a dropped stream costs a reconnect, not an activity retry',
    );
    await assertEachEventOnce(result);
    const counters = await stack.emulator.admin.counters();
    assert.ok(counters.reconnects_with_last_event_id >= 3);
    assert.ok(counters.events_resent > 0, 'the emulator resent events, and they were dropped as duplicates');
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});

test('a 429 on create is retried no sooner than its Retry-After, and creates one run', async () => {
  await stack.emulator.admin.setFaults({
    errors: [{ status: 429, rate: 1, retryAfterSeconds: 3, endpoints: ['create'] }],
  });
  const before = await stack.emulator.admin.counters();
  const handle = await startAgentRun(stack, { task: 'Rate limited [steps=2]', machine: nextMachine() });
  await waitUntil(
    'a 429',
    async () => (await stack.emulator.admin.counters()).faults_injected > before.faults_injected,
  );
  // The 429 happened before this moment, so the run's creation time minus it is a lower bound of the wait.
  const seen429At = Date.now();
  await stack.emulator.admin.clearFaults();
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  const after = await stack.emulator.admin.counters();
  assert.equal(after.faults_injected, before.faults_injected + 1, 'no retry came while the 429s lasted');
  const createdAt = Date.parse((await stack.emulator.admin.run(result.runId)).run.created_at);
  assert.ok(
    createdAt - seen429At >= 2000,
    `the retry came ${createdAt - seen429At} ms after the 429 was seen; Retry-After said 3 s`,
  );
  assert.equal(after.runs_created, before.runs_created + 1);
});

test('503 storms on the stream are ridden out by reconnecting, honouring Retry-After', async () => {
  // The run waits before step 3 (an emulator hold) with its stream open while the faults are set.
  const handle = await startAgentRun(stack, {
    task: 'Unavailable [steps=30] [hold@3]',
    machine: nextMachine(),
  });
  const runId = await waitForRunId(handle);
  await stack.emulator.admin.waitForHolds('the run held with its stream open', (held) =>
    held.some((h) => h.run_id === runId && h.open_streams > 0),
  );
  await stack.emulator.admin.setFaults({
    stream: { dropAfterEvents: 1, maxDrops: 1 },
    errors: [{ status: 503, rate: 1, retryAfterSeconds: 1, endpoints: ['stream'] }],
  });
  await stack.emulator.admin.release({ runId });
  await waitUntil(
    'a 503 on the stream',
    async () => (await stack.emulator.admin.counters()).faults_injected > 1,
  );
  await stack.emulator.admin.clearFaults();
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.ok(result.delivery.reconnects >= 1);
  await assertEachEventOnce(result);
});

test('a response lost after the run was created does not create or bill a second run', async () => {
  await stack.emulator.admin.setFaults({ lostResponses: { rate: 1, endpoints: ['create'] } });
  const before = await stack.emulator.admin.counters();
  const handle = await startAgentRun(stack, { task: 'Lost answer [steps=3]', machine: nextMachine() });
  await waitUntil(
    'a lost response',
    async () => (await stack.emulator.admin.counters()).responses_lost > before.responses_lost,
  );
  await stack.emulator.admin.clearFaults();
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  const after = await stack.emulator.admin.counters();
  assert.equal(after.runs_created, before.runs_created + 1, 'one run, although the POST was sent twice');
  assert.ok(after.idempotent_replays > before.idempotent_replays);
  assert.equal(after.steps_billed - before.steps_billed, 3);
});
