// A server that resends more events on resume than the heartbeated window (audit A10).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentRun } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startStack({ label: 'resend', emulator: { config: { machines: 2, agent: { paceMs: 2 } } } });
});
after(() => stack?.stop());

test('resends longer than the 32-id window never double the steps or the cost', async () => {
  await stack.emulator.admin.setFaults({ stream: { dropAfterEvents: 45, resendOnResume: 40 } });
  try {
    const before = await stack.emulator.admin.counters();
    const handle = await startAgentRun(stack, { task: 'Resend a lot [steps=100]', maxSteps: 200 });
    const result = await handle.result();
    const after = await stack.emulator.admin.counters();
    assert.equal(result.status, 'succeeded');
    assert.ok(
      after.events_resent - before.events_resent >= 40 * 3,
      'the emulator resent 40 events each time',
    );
    const billed = after.steps_billed - before.steps_billed;
    assert.equal(billed, 100);
    assert.equal(result.steps, billed, 'steps as billed');
    assert.equal(Math.round(result.costUsd * 100), billed * 5, 'cost as billed');
    const events = await stack.emulator.admin.runEvents(result.runId);
    assert.equal(result.delivery.eventsHandled, events.length, 'each event handled once');
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});
