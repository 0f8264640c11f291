import { Command, InvalidArgumentError } from 'commander';
import { emulatorCommand } from '../emulator/command';

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got "${value}"`);
  return parsed;
}

const program = new Command('coasty-temporal')
  .description('Durable orchestration of computer-use agent runs on Temporal')
  .showHelpAfterError()
  .exitOverride((error) => {
    // commander's own exits: help and version are success, every usage error is exit code 2.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

program
  .command('worker')
  .description(
    'run a worker: Temporal from TEMPORAL_* variables, the runs API from COASTY_BASE_URL and COASTY_API_KEY',
  )
  .option('--task-queue <name>', 'task queue to poll', 'coasty-temporal')
  .option(
    '--max-concurrent-activities <n>',
    'activity slots: the number of runs followed at once',
    positiveInteger,
  )
  .action(async (options: { taskQueue: string; maxConcurrentActivities?: number }) => {
    const { runWorker } = await import('../worker/main');
    await runWorker({
      taskQueue: options.taskQueue,
      maxConcurrentActivities: options.maxConcurrentActivities,
    });
  });

program.addCommand(emulatorCommand());

program
  .command('run')
  .argument('<file>', 'process file (YAML)')
  .description('start a process and watch it until done')
  .action(() => {
    console.error('`run` is coming (issue 6).');
    process.exitCode = 2;
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`coasty-temporal: ${(error as Error).message}`);
  process.exit(1);
}
