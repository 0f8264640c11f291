import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { RunsClient } from '../api/runs-client';
import { createWorker, DEFAULT_TASK_QUEUE, workflowCodeSource } from './index';
import { installMetrics, metricsPortOf } from './metrics';
import { shownEndpoint, shutdownTracing, tracingFromEnv } from './tracing';

export interface RunWorkerOptions {
  taskQueue?: string;
  maxConcurrentActivities?: number;
  /** Serve Prometheus metrics on this port (127.0.0.1); default COASTY_METRICS_PORT, else none. */
  metricsPort?: number;
  log?: (line: string) => void;
}

/**
 * The worker process (`coasty-temporal worker`): Temporal connection from the environment
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles), the runs API from
 * COASTY_BASE_URL and COASTY_API_KEY. SIGINT or SIGTERM drain it gracefully (the SDK's default).
 */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const metricsPort = metricsPortOf(options.metricsPort);
  if (metricsPort !== undefined) log(`Metrics: ${installMetrics(metricsPort)}`);
  const tracing = tracingFromEnv();
  if (tracing) log(`Traces: ${shownEndpoint(tracing.endpoint)}`);
  const client = RunsClient.fromEnv();
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    const worker = await createWorker({
      connection,
      namespace,
      taskQueue,
      client,
      ...(options.maxConcurrentActivities
        ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities }
        : {}),
    });
    log(
      `Worker ready: task queue ${taskQueue}, Temporal ${connectionOptions.address ?? 'localhost:7233'} namespace ${namespace}, runs API ${client.baseUrl} (pid ${process.pid}); workflow code: ${workflowCodeSource()}`,
    );
    await worker.run();
    log('Worker stopped.');
  } finally {
    await client.close();
    await connection.close();
    // The spans of the last tasks, still batched, go out before the process ends.
    await shutdownTracing();
  }
}
