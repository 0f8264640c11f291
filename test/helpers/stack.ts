import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { RunsClient } from '../../api/runs-client';
import { startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../emulator';
import { createWorker } from '../../worker';
import { connectTestEnv, uniqueTaskQueue } from './temporal';
import { testWorkflowBundle } from './workflow-bundle';

export interface TestStack {
  env: TestWorkflowEnvironment;
  emulator: RunningEmulator;
  taskQueue: string;
  /** Starts an in-process worker (unless `worker: false` was given), returns a stop function. */
  startWorker(extra?: { env?: NodeJS.ProcessEnv }): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

/** The real dev server (shared by the test run), a fresh emulator, and a worker on a new task queue. */
export async function startStack(
  options: {
    emulator?: StartEmulatorOptions;
    worker?: boolean;
    workerEnv?: NodeJS.ProcessEnv;
    label?: string;
  } = {},
): Promise<TestStack> {
  const env = await connectTestEnv();
  const emulator = await startEmulator({ config: { agent: { paceMs: 5 } }, ...options.emulator });
  const taskQueue = uniqueTaskQueue(options.label ?? 'stack');
  const stops: Array<() => Promise<void>> = [];

  const startWorker = async (extra: { env?: NodeJS.ProcessEnv } = {}) => {
    const client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
    const worker: Worker = await createWorker({
      connection: env.nativeConnection,
      taskQueue,
      client,
      env: extra.env ?? options.workerEnv ?? {},
      workflowBundle: testWorkflowBundle(),
    });
    const running = worker.run();
    const stop = async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await client.close();
    };
    stops.push(stop);
    return stop;
  };
  if (options.worker !== false) await startWorker();

  return {
    env,
    emulator,
    taskQueue,
    startWorker,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await emulator.stop();
      await env.teardown();
    },
  };
}
