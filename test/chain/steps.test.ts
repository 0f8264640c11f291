// runChain: outputs flow between steps; the failure policies stop, continue and retry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runChain } from '../../workflows/run-chain';
import type { ChainSpec } from '../../workflows/process-types';
import { startStack, type TestStack } from '../helpers/stack';
import { agent, chain } from './specs';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'chain-steps',
    emulator: { config: { machines: 8, agent: { paceMs: 2 } } },
  });
});
after(() => stack?.stop());

let seq = 0;
function start(spec: ChainSpec) {
  seq += 1;
  return stack.env.client.workflow.start(runChain, {
    taskQueue: stack.taskQueue,
    workflowId: `chain-steps-${process.pid}-${seq}`,
    args: [spec],
  });
}

test('inputs and earlier results are rendered into later tasks; each step is a child <chain id>/<step id>', async () => {
  const handle = await start(
    chain(
      [
        agent('fetch', 'Fetch the March invoice of {{input.vendor}} [steps=2]'),
        agent(
          'file',
          'File it: <{{steps.fetch.result}}> for {{input.vendor}} ({{steps.fetch.status}}) [steps=2]',
          {
            machineId: 'm-2',
            maxSteps: 5,
          },
        ),
      ],
      { inputs: { vendor: 'Acme Tools' } },
    ),
  );
  const result = await handle.result();
  assert.equal(result.status, 'succeeded', JSON.stringify(result.steps, null, 1));
  const [fetch, file] = result.steps;
  assert.equal(fetch!.state, 'succeeded');
  assert.equal(fetch!.workflowId, `${handle.workflowId}/fetch`);
  assert.equal(file!.workflowId, `${handle.workflowId}/file`);

  const first = await stack.emulator.admin.run(fetch!.runId!);
  assert.equal(first.run.task, 'Fetch the March invoice of Acme Tools [steps=2]');
  const second = await stack.emulator.admin.run(file!.runId!);
  assert.equal(second.run.task, `File it: <${fetch!.result}> for Acme Tools (succeeded) [steps=2]`);
  assert.equal(second.run.machine_id, 'm-2');
  assert.equal(second.run.max_steps, 5);
  assert.equal(result.costUsd, fetch!.costUsd + file!.costUsd);

  const child = await stack.env.client.workflow.getHandle(`${handle.workflowId}/file`).describe();
  assert.equal(child.status.name, 'COMPLETED');
  assert.equal(child.parentExecution?.workflowId, handle.workflowId);
});

test('on_failure stop: the chain ends failed and later steps never run', async () => {
  const before = await stack.emulator.admin.counters();
  const handle = await start(
    chain([agent('a', 'Break at step two [steps=3] [fail@2]'), agent('b', 'Never [steps=1]')]),
  );
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.steps[0]!.state, 'failed');
  assert.equal(result.steps[0]!.error?.type, 'agent_error');
  assert.equal(result.steps[0]!.costUsd, 0.05, 'step 1 was billed, step 2 was not');
  assert.equal(result.steps[1]!.state, 'skipped');
  assert.equal(result.steps[1]!.runId, undefined);
  const counters = await stack.emulator.admin.counters();
  assert.equal(counters.runs_created - before.runs_created, 1);
  const description = await handle.describe();
  assert.equal(
    description.typedSearchAttributes.getAll().find((p) => p.key.name === 'CoastyStatus')?.value,
    'failed',
  );
});

test('on_failure continue: the failed step is recorded and the chain goes on', async () => {
  const handle = await start(
    chain([
      agent('optional', 'Optional check [steps=3] [fail@1]', {
        onFailure: { policy: 'continue', maxRetries: 0 },
      }),
      agent('main', 'Main job, after "{{steps.optional.status}}" [steps=1]'),
    ]),
  );
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps[0]!.state, 'failed');
  assert.equal(result.steps[1]!.state, 'succeeded');
  const main = await stack.emulator.admin.run(result.steps[1]!.runId!);
  assert.equal(main.run.task, 'Main job, after "failed" [steps=1]');
});

test('on_failure retry: a new run under <chain id>/<step id>/retry-1, costs summed', async () => {
  await stack.emulator.admin.script({ match: 'flaky upload', failAt: 2, times: 1 });
  const handle = await start(
    chain([agent('upload', 'The flaky upload [steps=2]', { onFailure: { policy: 'retry', maxRetries: 2 } })]),
  );
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  const step = result.steps[0]!;
  assert.equal(step.attempts, 2);
  assert.equal(step.workflowId, `${handle.workflowId}/upload/retry-1`);
  assert.equal(step.state, 'succeeded');
  assert.equal(step.costUsd, 0.15, 'attempt 1 billed 1 step, attempt 2 billed 2');
  const firstAttempt = await stack.env.client.workflow.getHandle(`${handle.workflowId}/upload`).result();
  assert.equal(firstAttempt.status, 'failed');
  assert.notEqual(firstAttempt.runId, step.runId, 'the retry is a new run');
});

test('on_failure retry gives up after max_retries and stops the chain', async () => {
  await stack.emulator.admin.script({ match: 'portal is down', failAt: 1, times: 5 });
  const before = await stack.emulator.admin.counters();
  const handle = await start(
    chain([
      agent('login', 'Log in, but the portal is down [steps=2]', {
        onFailure: { policy: 'retry', maxRetries: 1 },
      }),
      agent('after', 'Never [steps=1]'),
    ]),
  );
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.steps[0]!.attempts, 2);
  assert.equal(result.steps[0]!.workflowId, `${handle.workflowId}/login/retry-1`);
  assert.equal(result.steps[1]!.state, 'skipped');
  const counters = await stack.emulator.admin.counters();
  assert.equal(counters.runs_created - before.runs_created, 2);
});

test('starting a chain again under the same id makes new runs (new idempotency keys)', async () => {
  const spec = chain([agent('only', 'Same task twice [steps=1]')]);
  const workflowId = `chain-steps-again-${process.pid}`;
  const run = () =>
    stack.env.client.workflow.execute(runChain, { taskQueue: stack.taskQueue, workflowId, args: [spec] });
  const first = await run();
  const second = await run();
  assert.equal(second.status, 'succeeded');
  assert.notEqual(second.steps[0]!.runId, first.steps[0]!.runId);
});
