// `coasty-temporal serve`: the web inbox, process pages, the JSON API, signed links and notifications,
// on a Temporal client like every other command. Loopback by default; another host needs operator tokens.
import { dollars } from '../core/money';
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { secretRedactor } from '../activities/secrets';
import type { RunsClient } from '../api/runs-client';
import { WEBHOOK_SECRET_VARIABLE } from '../api/webhooks';
import type { WaitingItem } from '../client/inbox';
import { buildApp } from './app';
import {
  DEFAULT_SERVE_PORT,
  isLoopbackHost,
  linkSecretFromEnv,
  notifyUrlFromEnv,
  operatorsFromEnv,
  publicUrlOf,
  ServeConfigError,
} from './config';
import { linkUrl } from './links';
import { Notifier, slackEscape, type SlackMessage } from './notify';
import { RecentSteps } from './recent-steps';
import type { WebhookReceiver } from './webhooks/receiver';
import { WEBHOOK_PATH } from './webhooks/route';

export { DEFAULT_SERVE_PORT, ServeConfigError };

export interface ServeOptions {
  client: Client;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8234; 0 = a free port. */
  port?: number;
  /** COASTY_SERVE_TOKENS(_FILE), COASTY_LINK_SECRET, COASTY_NOTIFY_URL, COASTY_SERVE_URL. */
  env?: NodeJS.ProcessEnv;
  /** Only processes on this task queue (default: all). */
  taskQueue?: string;
  /** The address people open (behind a reverse proxy); default COASTY_SERVE_URL, else where serve listens. */
  publicUrl?: string;
  trustProxy?: boolean;
  pollMs?: number;
  /**
   * The runs API, to show each waiting run's last steps and observations (masked with the
   * COASTY_SECRET_* values of `env`: give serve the workers' secrets). Without it: the last action.
   */
  runs?: RunsClient;
  /**
   * The runs API's webhook secret: with it serve receives webhook deliveries on `POST /webhooks/runs`
   * (default COASTY_WEBHOOK_SECRET; without one that path is a 404).
   */
  webhookSecret?: string;
  /** Where the receiver counts deliveries (the SDK runtime's meter, for one Prometheus endpoint). */
  meter?: MetricMeter;
  /** How long signed links in notifications live (default 24 h). */
  linkTtlSeconds?: number;
  log?: (line: string) => void;
}

export interface RunningServe {
  /** Where it listens. */
  url: string;
  /** Where people reach it (links, notifications). */
  publicUrl: URL;
  port: number;
  /** Operator tokens are required (false: open mode on loopback). */
  signIn: boolean;
  /** With a webhook secret: the receiver (its counts) and its public URL, for COASTY_WEBHOOK_URL. */
  webhooks?: { receiver: WebhookReceiver; url: string };
  stop(): Promise<void>;
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`serve: ${line}\n`));
  const host = options.host ?? '127.0.0.1';
  const operators = operatorsFromEnv(env);
  if (!isLoopbackHost(host) && operators.size === 0) {
    throw new ServeConfigError(
      `--host ${host} makes serve reachable from other machines, and without operator tokens anyone there could decide: ` +
        'set COASTY_SERVE_TOKENS="name=<token>,..." (or COASTY_SERVE_TOKENS_FILE), or keep --host 127.0.0.1',
    );
  }
  const linkSecret = linkSecretFromEnv(env);
  const notifyUrl = notifyUrlFromEnv(env);
  const webhookSecret = options.webhookSecret ?? (env[WEBHOOK_SECRET_VARIABLE]?.trim() || undefined);
  const app = await buildApp({
    client: options.client,
    operators,
    linkSecret,
    taskQueue: options.taskQueue,
    pollMs: options.pollMs,
    trustProxy: options.trustProxy,
    recentSteps: options.runs ? new RecentSteps(options.runs, secretRedactor(env)) : undefined,
    events: options.runs ? { runs: options.runs, redact: secretRedactor(env) } : undefined,
    webhooks: webhookSecret ? { secret: webhookSecret, meter: options.meter } : undefined,
    log,
  });
  const address = await app.fastify.listen({ host, port: options.port ?? DEFAULT_SERVE_PORT });
  const listening = `${address.replace('://[::1]', '://[::1]')}/`;
  const port = app.fastify.server.address() as { port: number };
  let publicUrl: URL;
  try {
    publicUrl = publicUrlOf(options.publicUrl ?? (env.COASTY_SERVE_URL?.trim() || undefined), listening);
  } catch (error) {
    await app.close();
    throw error;
  }

  let notifier: Notifier | undefined;
  let release: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  if (notifyUrl) {
    const ttl = options.linkTtlSeconds ?? 24 * 60 * 60;
    notifier = new Notifier({
      url: notifyUrl,
      log,
      message: (item) => slackMessage(item, publicUrl, linkSecret, ttl),
    });
    release = app.inbox.hold();
    unsubscribe = app.inbox.subscribe((items) => notifier!.observe(items));
  }

  return {
    url: listening,
    publicUrl,
    port: port.port,
    signIn: operators.size > 0,
    ...(app.webhooks
      ? { webhooks: { receiver: app.webhooks, url: new URL(WEBHOOK_PATH.slice(1), publicUrl).toString() } }
      : {}),
    async stop() {
      unsubscribe?.();
      release?.();
      await notifier?.stop();
      await app.close();
    },
  };
}

export function slackMessage(
  item: WaitingItem,
  base: URL,
  linkSecret: string | undefined,
  ttlSeconds: number,
): SlackMessage {
  const processUrl = new URL(`processes/${encodeURIComponent(item.processId)}`, base).toString();
  const what = item.where === 'budget' ? 'needs a larger budget' : 'waits for a person';
  const text = `${item.processName} (${item.processId}) ${what}: ${item.reason}`;
  const lines = [
    `*<${processUrl}|${slackEscape(item.processName)}>* ${what}${item.id ? ` at \`${slackEscape(item.id)}\`` : ''}`,
    `>${slackEscape(item.reason).replace(/\n/g, '\n>')}`,
  ];
  if (item.proposedAction) lines.push(`Proposed: ${slackEscape(item.proposedAction)}`);
  lines.push(
    `Cost so far ${dollars(item.costUsd)}${item.maxCostUsd !== undefined ? ` of ${dollars(item.maxCostUsd)}` : ''}`,
  );
  const buttons: Array<{
    type: 'button';
    text: { type: 'plain_text'; text: string };
    url: string;
    style?: string;
  }> = [];
  if (linkSecret && item.requestId) {
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    for (const action of ['approve', 'reject'] as const) {
      const url = linkUrl(
        base,
        { workflowId: item.workflowId, requestId: item.requestId, action, by: 'notification', expiresAt },
        linkSecret,
      );
      buttons.push({
        type: 'button',
        text: { type: 'plain_text', text: action === 'approve' ? 'Approve' : 'Reject' },
        url,
        style: action === 'approve' ? 'primary' : 'danger',
      });
    }
  }
  buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: processUrl });
  return {
    text: slackEscape(text),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'actions', elements: buttons },
    ],
  };
}
