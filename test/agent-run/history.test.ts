import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyText, startAgentRun } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

const SECRET = 'hunter2-Sec-Value-7731';
let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'history',
    emulator: { apiKey: 'emu_history_key_5521', config: { agent: { paceMs: 0 } } },
    workerEnv: { COASTY_SECRET_PORTAL_PASSWORD: SECRET },
  });
});
after(() => stack?.stop());

test('the history of a 1,000-step run is as long as that of a 10-step run', async (t) => {
  const sizes: Record<number, { events: number; bytes: number }> = {};
  for (const steps of [10, 1000]) {
    const handle = await startAgentRun(stack, { task: `Many steps [steps=${steps}]` });
    const result = await handle.result();
    assert.equal(result.steps, steps);
    const history = await handle.fetchHistory();
    sizes[steps] = { events: history.events!.length, bytes: historyText(history).length };
    t.diagnostic(`${steps} steps: ${sizes[steps]!.events} history events, ${sizes[steps]!.bytes} bytes`);
  }
  assert.equal(sizes[1000]!.events, sizes[10]!.events);
  assert.ok(sizes[1000]!.bytes < sizes[10]!.bytes * 1.2, 'bytes do not grow with steps');
});

test('neither the API key nor a secret value appears in the workflow history', async () => {
  const handle = await startAgentRun(stack, {
    task: 'Log in with password {{secret.PORTAL_PASSWORD}} [steps=3]',
  });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  const truth = await stack.emulator.admin.run(result.runId);
  assert.ok(truth.run.task.includes(SECRET), 'the worker substituted the secret right before the request');
  const text = historyText(await handle.fetchHistory());
  assert.ok(text.includes('{{secret.PORTAL_PASSWORD}}'), 'history holds the placeholder');
  assert.ok(!text.includes(SECRET), 'history never holds the secret');
  assert.ok(!text.includes(stack.emulator.apiKey), 'history never holds the API key');
});

test('a missing secret fails the run before any request, naming the variable and not retrying', async () => {
  const before = await stack.emulator.admin.counters();
  const handle = await startAgentRun(stack, { task: 'Use {{secret.NOT_SET_ANYWHERE}} [steps=1]' });
  await assert.rejects(handle.result(), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'MissingSecret');
    assert.equal(error.cause.nonRetryable, true);
    assert.match(error.cause.message, /COASTY_SECRET_NOT_SET_ANYWHERE/);
    return true;
  });
  assert.equal((await stack.emulator.admin.counters()).requests, before.requests, 'no request was sent');
});
