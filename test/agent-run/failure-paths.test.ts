// Failure paths keep the promise (audit 2026-12, A1, A2, A6): a failed or cancelled agentRun never
// leaves its paid run going, says what it cost, and an API outage at creation does not grow history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { RunsClient } from '../../api/runs-client';
import type { AgentRunResult } from '../../workflows/agent-run';
import { ACTIVITY_TYPE_NAMES } from '../../workflows/names';
import { runChain } from '../../workflows/run-chain';
import { serverCursor, startAgentRun, waitForPause, waitForRunId } from '../helpers/agent-run';
import { decideUpdate } from '../../workflows/messages';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { agent, chain } from '../chain/specs';

// Faults are set on this file's own emulator; each test sets what it needs and clears it after.
let stack: TestStack;
const workers: WorkerProcess[] = [];
before(async () => {
  stack = await startStack({
    label: 'failure-paths',
    emulator: { config: { machines: 8, agent: { paceMs: 10 } } },
  });
});
after(async () => {
  for (const worker of workers) worker.child.kill('SIGKILL');
  await stack?.stop();
});

/** Every run on a machine, by the public API (each test here has a machine of its own). */
async function runsOn(machineId: string) {
  const client = new RunsClient({ baseUrl: stack.emulator.baseUrl, apiKey: stack.emulator.apiKey });
  try {
    return (await client.listRuns({ machine_id: machineId, limit: 100 })).data;
  } finally {
    await client.close();
  }
}

function failureOf(error: unknown): ApplicationFailure {
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
  return error.cause;
}

test('a stream that fails for good (malformed events): the remote run is cancelled and the failure says what it cost', async () => {
  await stack.emulator.admin.setFaults({ stream: { malformed: 'non_json_data' } });
  try {
    const handle = await startAgentRun(stack, {
      task: 'Read forever [forever]',
      maxSteps: 5000,
      machine: 'm-1',
    });
    const failure = failureOf(
      await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.equal(failure.type, 'CoastyStreamProtocol');
    assert.equal(failure.nonRetryable, true);
    const partial = failure.details?.[0] as AgentRunResult;
    const truth = await stack.emulator.admin.run(partial.runId);
    assert.equal(truth.run.status, 'cancelled', 'nobody follows the run any more: it must not go on billing');
    assert.equal(partial.status, 'cancelled');
    assert.equal(partial.steps, truth.run.steps, 'the steps billed are reported');
    assert.equal(partial.costUsd, truth.run.cost_usd);
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});

test('a chain step retried after a failed stream: the first run is cancelled before the retry starts, and both runs are counted', async () => {
  await stack.emulator.admin.setFaults({ stream: { malformed: 'non_json_data' } });
  const before = await stack.emulator.admin.counters();
  try {
    const result = await stack.env.client.workflow.execute(runChain, {
      taskQueue: stack.taskQueue,
      workflowId: `failure-paths-chain-${process.pid}`,
      args: [
        chain([
          agent('pay', 'Pay it [forever]', {
            machineId: 'm-2',
            maxSteps: 5000,
            onFailure: { policy: 'retry', maxRetries: 1 },
          }),
        ]),
      ],
    });
    const after = await stack.emulator.admin.counters();
    assert.equal(after.runs_created - before.runs_created, 2, 'one run per attempt');
    const step = result.steps[0]!;
    assert.equal(step.state, 'failed');
    assert.equal(step.attempts, 2);
    const runs = await runsOn('m-2');
    assert.equal(runs.length, 2);
    for (const run of runs) assert.equal(run.status, 'cancelled');
    const [first, second] = [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at));
    assert.ok(first!.finished_at! <= second!.created_at, 'the retry never billed beside the first run');
    const billed = Math.round(runs.reduce((sum, run) => sum + run.cost_usd, 0) * 100) / 100;
    assert.equal(step.costUsd, billed, 'the chain counts what the failed attempts billed');
    assert.equal(result.costUsd, billed);
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});

test('cancel while the stream worker is dead: the workflow ends cancelled and the remote run is cancelled', async () => {
  const doomed = await spawnWorker({
    taskQueue: `${stack.taskQueue}-dead`,
    baseUrl: stack.emulator.baseUrl,
    apiKey: stack.emulator.apiKey,
  });
  workers.push(doomed);
  const handle = await stack.env.client.workflow.start('agentRun', {
    taskQueue: `${stack.taskQueue}-dead`,
    workflowId: `failure-paths-dead-${process.pid}`,
    args: [
      {
        request: { machine_id: 'm-3', task: 'Keep going [forever]', max_steps: 5000 },
        streamHeartbeatTimeout: '10s',
      },
    ],
  });
  const runId = await waitForRunId(handle);
  // The stream is running on the doomed worker once its cursor reached the server.
  await waitUntil(
    'the stream heartbeat on the server',
    async () => (await serverCursor(handle)) !== undefined,
  );
  doomed.child.kill('SIGKILL');
  await doomed.exited;
  const replacement = await spawnWorker({
    taskQueue: `${stack.taskQueue}-dead`,
    baseUrl: stack.emulator.baseUrl,
    apiKey: stack.emulator.apiKey,
  });
  workers.push(replacement);
  await handle.cancel();
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof CancelledFailure, `ended with ${String(error.cause)}`);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.equal((await stack.emulator.admin.run(runId)).run.status, 'cancelled');
  replacement.child.kill('SIGTERM');
  await replacement.exited;
});

test('an API outage at creation: the local attempt is bounded, the retries go on as an activity without growing history', async () => {
  await stack.emulator.admin.setFaults({
    errors: [{ status: 503, rate: 1, retryAfterSeconds: 1, endpoints: ['create'] }],
  });
  let cleared = false;
  try {
    const handle = await startAgentRun(stack, { task: 'Create through an outage [steps=2]', machine: 'm-4' });
    // The fallback activity is pending: the local activity gave up after its 3 attempts.
    await waitUntil(
      'createRun to retry as an activity',
      async () => {
        const { raw } = await handle.describe();
        return (
          raw.pendingActivities?.some(
            (activity) => activity.activityType?.name === ACTIVITY_TYPE_NAMES.createRun,
          ) || undefined
        );
      },
      60_000,
    );
    // Outlast several workflow task timeouts (10 s): a local activity retrying that long would add tasks.
    const { raw } = await handle.describe();
    const attempt = () =>
      raw.pendingActivities?.find((a) => a.activityType?.name === ACTIVITY_TYPE_NAMES.createRun)?.attempt ??
      0;
    await waitUntil(
      'a few more create attempts',
      async () => {
        const now = await handle.describe();
        const a =
          now.raw.pendingActivities?.find((p) => p.activityType?.name === ACTIVITY_TYPE_NAMES.createRun)
            ?.attempt ?? 0;
        return a >= attempt() + 3 || undefined;
      },
      120_000,
    );
    await stack.emulator.admin.clearFaults();
    cleared = true;
    const result = await handle.result();
    assert.equal(result.status, 'succeeded');
    const history = await handle.fetchHistory();
    const tasks = history.events!.filter((event) => event.workflowTaskCompletedEventAttributes).length;
    assert.ok(tasks <= 5, `${tasks} workflow tasks completed (a retrying local activity adds one every 8 s)`);
    const runs = await runsOn('m-4');
    assert.equal(runs.length, 1, 'the same idempotency key on every attempt: one run');
  } finally {
    if (!cleared) await stack.emulator.admin.clearFaults();
  }
});

test('a 4xx on resume (the API refuses the decision): the workflow fails typed, the paused run is cancelled', async () => {
  const handle = await startAgentRun(stack, { task: 'Ask first [steps=3] [human@1]', machine: 'm-5' });
  const pause = await waitForPause(handle);
  await stack.emulator.admin.setFaults({ errors: [{ status: 400, rate: 1, endpoints: ['resume'] }] });
  try {
    await handle.executeUpdate(decideUpdate, {
      args: [{ action: 'approve', by: 'ana', requestId: pause.awaiting!.requestId }],
    });
    const failure = failureOf(
      await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.equal(failure.type, 'CoastyInvalidRequest');
    const truth = await stack.emulator.admin.run(pause.runId!);
    assert.equal(truth.run.status, 'cancelled', 'the run no longer holds its machine, waiting for nobody');
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});

test('audit B6: a 404 on the stream is final (not retried), and the run is cancelled on the way out', async () => {
  // The run exists; its stream is refused (the runs API lost track of it, or a proxy answers 404).
  await stack.emulator.admin.setFaults({ errors: [{ status: 404, rate: 1, endpoints: ['stream'] }] });
  try {
    const handle = await startAgentRun(stack, { task: 'Read on [forever]', maxSteps: 5000, machine: 'm-6' });
    const failure = failureOf(
      await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.equal(failure.type, 'CoastyNotFound');
    assert.equal(failure.nonRetryable, true);
    const partial = failure.details?.[0] as AgentRunResult;
    assert.equal((await stack.emulator.admin.run(partial.runId)).run.status, 'cancelled');
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});
