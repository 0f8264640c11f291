// `dev`: the local stack (Temporal dev server with its Web UI, the emulator, a worker) in one process,
// until Ctrl-C. Other commands in other terminals attach to it through .coasty-temporal/stack.json.
import { Connection } from '@temporalio/client';
import { Command } from 'commander';
import { findStackRecord } from '../../dev/stack-file';
import { makeClient, usesExternalServices } from '../connect';
import { CliError, EXIT } from '../errors';
import { waitForRunsToSettle } from '../settle';
import { action } from './common';

export function devCommand(): Command {
  return new Command('dev')
    .description('run the local stack (Temporal dev server + Web UI, runs API emulator, worker) until Ctrl-C')
    .option('--json', 'print one JSON line with the addresses once ready')
    .option(
      '--task-queue <name>',
      'task queue of the worker (default: COASTY_TASK_QUEUE, else "coasty-temporal")',
    )
    .action(
      action(async (flags: { json?: boolean; taskQueue?: string }) => {
        if (usesExternalServices()) {
          throw new CliError(
            '`dev` starts a local stack, but TEMPORAL_ADDRESS, TEMPORAL_PROFILE or COASTY_BASE_URL is set. ' +
              'Unset them, or run only a worker against those services: npx coasty-temporal worker',
          );
        }
        const running = findStackRecord();
        if (running) {
          throw new CliError(
            `A local stack runs already here (pid ${running.pid}, Temporal ${running.temporalAddress}, ` +
              `Web UI ${running.uiUrl}): use it, or stop it first.`,
          );
        }
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const { startEmbeddedStack } = await import('../../dev/stack');
        const stack = await startEmbeddedStack({
          taskQueue: flags.taskQueue ?? (process.env.COASTY_TASK_QUEUE || undefined),
          log,
        });
        const { record } = stack;
        // A key the user gave (COASTY_API_KEY) is never printed; a generated emulator key is, for curl.
        const keyGiven = Boolean(process.env.COASTY_API_KEY?.trim());
        const apiKeyText = keyGiven ? 'API key from COASTY_API_KEY' : `API key ${stack.apiKey}`;
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ready: true, ...record, ...(keyGiven ? {} : { apiKey: stack.apiKey }), dbFilename: stack.dbFilename, notes: stack.notes })}\n`,
          );
        } else {
          const lines = [
            'coasty-temporal dev: the local stack is ready.',
            `  Temporal    ${record.temporalAddress}  namespace ${record.namespace}  (state: ${stack.dbFilename})`,
            `  Web UI      ${record.uiUrl}`,
            `  runs API    ${record.apiBaseUrl}  (the emulator; ${apiKeyText})`,
            `  worker      task queue ${record.taskQueue}  (log: ${stack.workerLog})`,
            `  Approve in the browser: ${record.serveUrl}  (log: ${stack.serveLog})`,
            ...stack.notes.map((note) => `  note: ${note}`),
            '',
            'In a second terminal, from this directory (commands attach to this stack):',
            '  npx coasty-temporal run examples/quickstart.yaml',
            '  npx coasty-temporal list --awaiting',
            '  npx coasty-temporal approve quickstart',
            `Or point other tools at it: TEMPORAL_ADDRESS=${record.temporalAddress} (temporal workflow list ...).`,
            'Ctrl-C stops the stack; processes are kept and go on when it runs again.',
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        const connection = await Connection.connect({ address: record.temporalAddress });
        await waitForRunsToSettle(makeClient(connection, record.namespace), log);
        await connection.close();
        log('Stopping the local stack...');
        await stack.stop();
        log('Stopped.');
        return EXIT.ok;
      }),
    );
}
