// `coasty-temporal webhooks`: the receiver alone, for a fleet whose deliveries need their own process.
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import Fastify from 'fastify';
import { signalRunState } from '../../client/run-state';
import { WebhookReceiver } from './receiver';
import { registerWebhookRoute, WEBHOOK_PATH } from './route';

export interface WebhookServerOptions {
  client: Client;
  secret: string;
  host?: string;
  /** 0 = a free port. */
  port: number;
  meter?: MetricMeter;
}

export interface RunningWebhookServer {
  /** Where the receiver listens: `http://host:port/webhooks/runs`. */
  url: string;
  port: number;
  receiver: WebhookReceiver;
  stop(): Promise<void>;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const receiver = new WebhookReceiver({
    secret: options.secret,
    signal: (workflowId, change) => signalRunState(options.client, workflowId, change),
    meter: options.meter,
  });
  const fastify = Fastify({ logger: false });
  fastify.get('/healthz', async () => ({ ok: true }));
  await registerWebhookRoute(fastify, receiver);
  const host = options.host ?? '127.0.0.1';
  await fastify.listen({ host, port: options.port });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${WEBHOOK_PATH}`,
    port,
    receiver,
    stop: () => fastify.close(),
  };
}
