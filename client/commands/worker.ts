// `worker`: a worker for this package's workflows and activities, configured from the environment.
import { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workflows/names';
import { positiveInteger } from './numbers';

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'run a worker: Temporal from TEMPORAL_* variables, the runs API from COASTY_BASE_URL and COASTY_API_KEY',
    )
    .option(
      '--task-queue <name>',
      'task queue to poll (default: COASTY_TASK_QUEUE, else "coasty-temporal")',
      process.env.COASTY_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    )
    .option(
      '--max-concurrent-activities <n>',
      'activity slots: the number of runs followed at once',
      positiveInteger,
    )
    .option(
      '--metrics-port <port>',
      "serve Prometheus metrics (the SDK's and ours) on 127.0.0.1:<port>/metrics (default: COASTY_METRICS_PORT, else none)",
      positiveInteger,
    )
    .action(
      async (options: { taskQueue: string; maxConcurrentActivities?: number; metricsPort?: number }) => {
        const { runWorker } = await import('../../worker/main');
        await runWorker({
          taskQueue: options.taskQueue,
          maxConcurrentActivities: options.maxConcurrentActivities,
          metricsPort: options.metricsPort,
        });
      },
    );
}
