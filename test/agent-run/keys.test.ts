// Idempotency keys for any workflow id: encoded (non-ASCII) and bounded (long ids), on the real stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRun } from '../../workflows/agent-run';
import { humanInputSignal } from '../../workflows/messages';
import { waitForPause } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'keys',
    emulator: { config: { machines: ['m-1', 'm-235', 'm-250'], agent: { paceMs: 5 } } },
  });
});
after(() => stack?.stop());

const unique = () => `${process.pid}-${Date.now().toString(36)}`;

function start(workflowId: string, task: string, machine: string) {
  return stack.env.client.workflow.start(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [{ request: { machine_id: machine, task, max_steps: 20 } }],
  });
}

test('a workflow id with "€" creates exactly one run and succeeds', async () => {
  const before = await stack.emulator.admin.counters();
  const handle = await start(`facture-€-42-${unique()}`, 'Pay facture 42 [steps=3]', 'm-1');
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 3);
  const after = await stack.emulator.admin.counters();
  assert.equal(after.runs_created, before.runs_created + 1, 'one run for the one workflow');
  assert.equal(after.steps_billed - before.steps_billed, 3);
});

// 235: the create key fits (252 characters) and only the resume keys are too long; 250: both are.
for (const length of [235, 250]) {
  test(`a ${length}-character workflow id gives create and resume keys the API accepts`, async () => {
    const id = `long-${unique()}-`.padEnd(length, 'x');
    const before = await stack.emulator.admin.counters();
    const handle = await start(id, 'Approve me [steps=3] [human@2]', `m-${length}`);
    await waitForPause(handle);
    await handle.signal(humanInputSignal, { action: 'approve', message: 'ok', by: 'ana' });
    const result = await handle.result();
    assert.equal(result.status, 'succeeded');
    assert.equal(result.approvals.length, 1);
    const after = await stack.emulator.admin.counters();
    assert.equal(after.runs_created, before.runs_created + 1);
    assert.equal((await stack.emulator.admin.run(result.runId)).run.status, 'succeeded');
  });
}
