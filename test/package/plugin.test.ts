// CoastyPlugin in a worker of the user's: a user activity named like ours, the search attribute
// check at worker start, search attributes switched off, and old histories replaying through it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { Worker } from '@temporalio/worker';
import { RunsClient } from '../../api/runs-client';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { CoastyPlugin, MissingSearchAttributeError, workflowsPath } from '../../worker';
import { agentRun } from '../../workflows/agent-run';
import { decideUpdate, coastyStatusKey } from '../../workflows/messages';
import { ACTIVITY_NAMES_PATCH, ACTIVITY_TYPE_NAMES } from '../../workflows/names';
import { runChain } from '../../workflows/run-chain';
import { agent, chain } from '../chain/specs';
import { historyText, waitForPause } from '../helpers/agent-run';
import { connectTestEnv, uniqueTaskQueue } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const userWorkflows = fileURLToPath(new URL('./fixtures/user-workflows.ts', import.meta.url));
const legacyHistories = fileURLToPath(new URL('./fixtures/legacy-histories.json', import.meta.url));

let env: TestWorkflowEnvironment;
let emulator: RunningEmulator;
let runs: RunsClient;

before(async () => {
  env = await connectTestEnv();
  emulator = await startEmulator({ config: { agent: { paceMs: 5 } } });
  runs = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
});

after(async () => {
  await runs?.close();
  await emulator?.stop();
  await env?.teardown();
});

async function running<T>(worker: Worker, body: () => Promise<T>): Promise<T> {
  const done = worker.run();
  try {
    return await body();
  } finally {
    worker.shutdown();
    await done;
  }
}

test('a user activity named createRun keeps its behaviour beside the plugin', async () => {
  const taskQueue = uniqueTaskQueue('plugin-user');
  const before = emulator.counters().runs_created;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: userWorkflows,
    activities: { createRun: async (name: string) => `mine: ${name}` },
    plugins: [new CoastyPlugin({ runsClient: runs })],
  });
  const result = await running(worker, () =>
    env.client.workflow.execute('ownCreateRunThenAgent', {
      taskQueue,
      workflowId: `${taskQueue}-wf`,
      args: ['m-1'],
    }),
  );
  assert.deepEqual(result, { mine: 'mine: invoice 7', status: 'succeeded' });
  assert.equal(emulator.counters().runs_created - before, 1, 'one run for the one agentRun');
});

test('new histories use the prefixed activity names behind the patch marker, and replay through the plugin', async () => {
  const taskQueue = uniqueTaskQueue('plugin-new');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath,
    plugins: [new CoastyPlugin({ runsClient: runs, env: {} })],
  });
  const history = await running(worker, async () => {
    const handle = await env.client.workflow.start(agentRun, {
      taskQueue,
      workflowId: `${taskQueue}-run`,
      args: [{ request: { machine_id: 'm-2', task: 'Pay invoice 8 [steps=3] [human@2]', max_steps: 10 } }],
    });
    const pause = await waitForPause(handle);
    await handle.executeUpdate(decideUpdate, {
      args: [{ action: 'approve', requestId: pause.awaiting!.requestId }],
    });
    assert.equal((await handle.result()).status, 'succeeded');
    return handle.fetchHistory();
  });
  const scheduled = new Set(
    history.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
  );
  assert.deepEqual(
    [...scheduled].sort(),
    [ACTIVITY_TYPE_NAMES.resumeRun, ACTIVITY_TYPE_NAMES.streamRun].sort(),
  );
  const markers = history.events!.filter(
    (event) => event.markerRecordedEventAttributes?.markerName === 'core_patch',
  );
  assert.equal(markers.length, 1);
  assert.ok(historyText(markers).includes(ACTIVITY_NAMES_PATCH), 'the patch marker names our patch');
  await Worker.runReplayHistory(
    { workflowsPath, plugins: [new CoastyPlugin({ runsClient: runs })] },
    history,
    `${taskQueue}-run`,
  );
});

test('histories recorded before the prefixed names replay through the plugin-built worker', async () => {
  const recorded = JSON.parse(await readFile(legacyHistories, 'utf8')) as Record<string, unknown>;
  const histories = Object.entries(recorded).map(([workflowId, history]) => ({ workflowId, history }));
  assert.ok(histories.length >= 8);
  const replays = Worker.runReplayHistories(
    { workflowsPath, plugins: [new CoastyPlugin({ runsClient: runs })] },
    histories,
  );
  let count = 0;
  for await (const replay of replays) {
    assert.equal(replay.error, undefined, `${replay.workflowId} replays: ${replay.error?.message}`);
    count += 1;
  }
  assert.equal(count, histories.length);
});

test('a namespace without CoastyStatus: the worker refuses to start with the command; switched off, processes run', async () => {
  const namespace = `coasty-no-attribute-${process.pid}`;
  await env.client.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  await waitUntil('the new namespace to be served', async () => {
    await env.client.workflowService.describeNamespace({ namespace });
    return true;
  });
  const taskQueue = uniqueTaskQueue('plugin-no-attribute');
  const options = { connection: env.nativeConnection, namespace, taskQueue, workflowsPath };

  await assert.rejects(
    Worker.create({ ...options, plugins: [new CoastyPlugin({ runsClient: runs })] }),
    (error) => {
      assert.ok(error instanceof MissingSearchAttributeError);
      assert.match(
        error.message,
        new RegExp(
          `temporal operator search-attribute create --namespace ${namespace} --name CoastyStatus --type Keyword`,
        ),
      );
      return true;
    },
  );

  const worker = await Worker.create({
    ...options,
    plugins: [new CoastyPlugin({ runsClient: runs, searchAttributes: false })],
  });
  const client = new Client({ connection: env.client.connection, namespace });
  const workflowId = `${taskQueue}-chain`;
  const result = await running(worker, () =>
    client.workflow.execute(runChain, {
      taskQueue,
      workflowId,
      args: [
        chain([
          agent('download', 'Open the supplier portal [steps=2]'),
          agent('check', 'Check it [steps=1]'),
        ]),
      ],
    }),
  );
  assert.equal(result.status, 'succeeded');
  for (const id of [workflowId, `${workflowId}/download`]) {
    const description = await client.workflow.getHandle(id).describe();
    assert.equal(
      description.typedSearchAttributes.get(coastyStatusKey),
      undefined,
      `${id} has no CoastyStatus`,
    );
  }
});

test('the recorded replay fixtures (test/replay/histories) replay through the plugin-built worker too', async () => {
  const dir = new URL('../replay/histories/', import.meta.url);
  const workflowIds = JSON.parse(await readFile(new URL('workflow-ids.json', dir), 'utf8')) as Record<
    string,
    string
  >;
  const histories = await Promise.all(
    Object.entries(workflowIds).map(async ([name, workflowId]) => ({
      workflowId,
      history: JSON.parse(await readFile(new URL(name, dir), 'utf8')) as unknown,
    })),
  );
  assert.ok(histories.length >= 8);
  const failures: string[] = [];
  const plugins = [new CoastyPlugin({ runsClient: runs })];
  for await (const replay of Worker.runReplayHistories({ workflowsPath, plugins }, histories)) {
    if (replay.error) failures.push(`${replay.workflowId}: ${replay.error.message}`);
  }
  assert.deepEqual(failures, []);
});
