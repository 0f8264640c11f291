// The worker process of the tests: what `coasty-temporal worker` runs (worker/main.ts: createWorker,
// Temporal from TEMPORAL_*, the runs API from COASTY_BASE_URL and COASTY_API_KEY, SIGINT/SIGTERM
// drain), except that the workflow code comes from the test run's bundle (--bundle), so a worker
// starts without bundling. `coasty-temporal worker` itself is spawned by test/agent-run/crash.test.ts.
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { RunsClient } from '../../api/runs-client';
import { createWorker } from '../../worker/index';

const { values } = parseArgs({
  options: { 'task-queue': { type: 'string' }, bundle: { type: 'string' } },
});
const taskQueue = values['task-queue'];
if (!taskQueue) throw new Error('worker-main: --task-queue is required');

const client = RunsClient.fromEnv();
const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
const connection = await NativeConnection.connect(connectionOptions);
try {
  const worker = await createWorker({
    connection,
    namespace,
    taskQueue,
    client,
    ...(values.bundle ? { workflowBundle: { codePath: values.bundle } } : {}),
  });
  console.log(
    `Worker ready: task queue ${taskQueue}, Temporal ${connectionOptions.address} namespace ${namespace}, ` +
      `runs API ${client.baseUrl}, workflows from ${values.bundle ?? 'sources'} (pid ${process.pid})`,
  );
  await worker.run();
  console.log('Worker stopped.');
} finally {
  await client.close();
  await connection.close();
}
