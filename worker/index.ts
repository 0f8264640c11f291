import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { RunsClient } from '../api/runs-client';
import { dataConverterFromEnv } from '../codec';

export const DEFAULT_TASK_QUEUE = 'coasty-temporal';
/**
 * Each followed run holds one activity slot for as long as it streams (an open socket, mostly idle),
 * so the activity slots bound the number of runs one worker follows at once; 1,000 streams cost
 * little CPU and memory (see the README, "Activity slots").
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 1000;
/**
 * Cancellation reaches an activity only in a heartbeat response, and the SDK throttles heartbeats to
 * 0.8 x the heartbeat timeout (24 s for our 30 s): a cancelled process would keep its remote run
 * going that long. 5 s bounds that delay and what a crash replays, for one heartbeat RPC per 5 s per stream.
 */
export const DEFAULT_MAX_HEARTBEAT_THROTTLE = '5s';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions extends Partial<
  Omit<WorkerOptions, 'connection' | 'taskQueue' | 'activities'>
> {
  connection: NativeConnection;
  taskQueue?: string;
  namespace?: string;
  /** The runs API client; default `RunsClient.fromEnv()` (COASTY_BASE_URL, COASTY_API_KEY). */
  client?: RunsClient;
  /** Environment for `{{secret.NAME}}` (COASTY_SECRET_NAME); default process.env. */
  env?: NodeJS.ProcessEnv;
  // dataConverter (from WorkerOptions): default `dataConverterFromEnv(env)`, payload encryption when
  // COASTY_CODEC_KEY is set (codec/); clients must use the same converter.
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { connection, taskQueue = DEFAULT_TASK_QUEUE, client = RunsClient.fromEnv(), env, ...rest } = options;
  return Worker.create({
    // A prebuilt bundle (`workflowBundle`, from bundleWorkflowCode) starts a worker without bundling.
    ...(rest.workflowBundle ? {} : { workflowsPath }),
    maxConcurrentActivityTaskExecutions: DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    maxHeartbeatThrottleInterval: DEFAULT_MAX_HEARTBEAT_THROTTLE,
    dataConverter: dataConverterFromEnv(env ?? process.env),
    // Pollers follow the backlog: a burst of starts (a batch, a fleet) is picked up by more pollers
    // (bench/concurrency.ts: 300 runs, wall 12 s -> 9.7 s against the fixed default).
    workflowTaskPollerBehavior: { type: 'autoscaling' },
    activityTaskPollerBehavior: { type: 'autoscaling' },
    ...rest,
    connection,
    taskQueue,
    activities: createActivities({ client, env }),
  });
}
