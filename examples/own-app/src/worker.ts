// The app's worker: its own workflows and activities, and coasty-temporal's through the plugin.
// Run: COASTY_BASE_URL=... COASTY_API_KEY=... TEMPORAL_ADDRESS=127.0.0.1:7233 npm run worker
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CoastyPlugin, type CoastyPluginOptions } from 'coasty-temporal';
import * as activities from './activities.js';

export const TASK_QUEUE = 'own-app';

export async function createAppWorker(options: {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  coasty?: CoastyPluginOptions;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('./workflows.js', import.meta.url)),
    activities,
    plugins: [new CoastyPlugin(options.coasty)],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const connection = await NativeConnection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  });
  try {
    const worker = await createAppWorker({ connection, namespace: process.env.TEMPORAL_NAMESPACE });
    await worker.run();
  } finally {
    await connection.close();
  }
}
