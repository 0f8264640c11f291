// `serve`: the web inbox and the JSON API for the people who decide (serve/), until Ctrl-C.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SERVE_PORT, ServeConfigError } from '../../serve/config';
import { CliError, EXIT } from '../errors';
import { action, withTarget, type CommonOptions } from './common';

export function portOption(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return parsed;
}

interface ServeFlags extends CommonOptions {
  port: number;
  host: string;
  publicUrl?: string;
  trustProxy?: boolean;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('web inbox: approve, reject, raise budgets and cancel in the browser (and a JSON API)')
    .option('--port <port>', 'port to listen on (0 = any free port)', portOption, DEFAULT_SERVE_PORT)
    .option(
      '--host <address>',
      'address to listen on; beyond loopback needs COASTY_SERVE_TOKENS',
      '127.0.0.1',
    )
    .option(
      '--public-url <url>',
      'the address people open, behind a reverse proxy (default: COASTY_SERVE_URL)',
    )
    .option('--trust-proxy', "trust the reverse proxy's X-Forwarded-Proto/For (https cookies)")
    .option(
      '--task-queue <name>',
      'only processes on this task queue (default: COASTY_TASK_QUEUE, else every process)',
    )
    .action(
      action(async (flags: ServeFlags) =>
        withTarget({ ...flags, startStack: false }, async (target) => {
          const { startServe } = await import('../../serve');
          // With the runs API key, the inbox shows each waiting run's last steps (masked like the workers do).
          const apiKey = process.env.COASTY_API_KEY?.trim();
          const baseUrl = process.env.COASTY_BASE_URL?.trim() || target.record?.apiBaseUrl;
          const { RunsClient } = await import('../../api/runs-client');
          const runs = apiKey && baseUrl ? new RunsClient({ baseUrl, apiKey }) : undefined;
          let serve;
          try {
            serve = await startServe({
              client: target.client,
              host: flags.host,
              port: flags.port,
              publicUrl: flags.publicUrl,
              trustProxy: flags.trustProxy,
              taskQueue: flags.taskQueue ?? (process.env.COASTY_TASK_QUEUE || undefined),
              runs,
            });
          } catch (error) {
            await runs?.close();
            if (error instanceof ServeConfigError) throw new CliError(error.message, EXIT.usage);
            if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
              throw new CliError(`port ${flags.port} is taken: choose another with --port`, EXIT.usage);
            }
            throw error;
          }
          process.stdout.write(
            `Approve in the browser: ${serve.publicUrl}\n` +
              `  listening on ${serve.url} (${serve.signIn ? 'operators sign in with their token' : 'this machine only, no sign-in'}); Ctrl-C stops it\n`,
          );
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await serve.stop();
          await runs?.close();
          return EXIT.ok;
        }),
      ),
    );
}
