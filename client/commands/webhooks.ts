// `webhooks`: the webhook receiver alone (serve/webhooks), for workers whose runs use
// `delivery: webhook`, until Ctrl-C. Every delivery is checked against COASTY_WEBHOOK_SECRET.
import { Command } from 'commander';
import { WEBHOOK_SECRET_VARIABLE, WEBHOOK_URL_VARIABLE } from '../../api/webhooks';
import { CliError, EXIT } from '../errors';
import { action, withTarget, type CommonOptions } from './common';
import { portOption } from './serve';

interface WebhooksFlags extends CommonOptions {
  port: number;
  host: string;
  metricsPort?: number;
}

export const DEFAULT_WEBHOOKS_PORT = 8235;

export function webhooksCommand(): Command {
  return new Command('webhooks')
    .description(
      `receive the runs API's webhooks for runs with delivery: webhook and signal their workflows (needs ${WEBHOOK_SECRET_VARIABLE})`,
    )
    .option('--port <port>', 'port to listen on (0 = any free port)', portOption, DEFAULT_WEBHOOKS_PORT)
    .option(
      '--host <address>',
      'address to listen on (every delivery is signature-checked, so beyond loopback is safe behind TLS)',
      '127.0.0.1',
    )
    .option('--metrics-port <port>', 'serve delivery counts on http://127.0.0.1:<port>/metrics', portOption)
    .action(
      action(async (flags: WebhooksFlags) => {
        const secret = process.env[WEBHOOK_SECRET_VARIABLE]?.trim();
        if (!secret) {
          throw new CliError(
            `set ${WEBHOOK_SECRET_VARIABLE} to the runs API's webhook secret: every delivery is checked against it`,
            EXIT.usage,
          );
        }
        // The SDK runtime (and with it the metrics endpoint) is set up before the first connection.
        const meter =
          flags.metricsPort === undefined ? undefined : await installReceiverMetrics(flags.metricsPort);
        return withTarget({ ...flags, startStack: false }, async (target) => {
          const { startWebhookServer } = await import('../../serve/webhooks/server');
          let server;
          try {
            server = await startWebhookServer({
              client: target.client,
              secret,
              host: flags.host,
              port: flags.port,
              meter,
            });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
              throw new CliError(`port ${flags.port} is taken: choose another with --port`, EXIT.usage);
            throw error;
          }
          process.stdout.write(
            `Webhook receiver ${server.url}; Ctrl-C stops it\n` +
              `  workers: ${WEBHOOK_URL_VARIABLE}=<this address as the runs API reaches it> ${WEBHOOK_SECRET_VARIABLE}=<the same secret>\n`,
          );
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await server.stop();
          return EXIT.ok;
        });
      }),
    );
}

async function installReceiverMetrics(port: number) {
  const { Runtime } = await import('@temporalio/worker');
  const { installMetrics } = await import('../../worker/metrics');
  const url = installMetrics(port);
  process.stdout.write(`  metrics: ${url}\n`);
  return Runtime.instance().metricMeter;
}
