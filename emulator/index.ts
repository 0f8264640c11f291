// startEmulator(): a local server speaking the runs API of docs/api.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorAdmin } from './admin-client';
import { handleAdmin } from './admin-routes';
import { handleApi } from './api-routes';
import { resolveConfig, type EmulatorConfig, type EmulatorConfigInput } from './config';
import type { EmulatorContext } from './context';
import { createCounters, resetCounters, snapshotCounters, type Counters } from './counters';
import { Engine } from './engine';
import { FaultInjector } from './faults';
import { errorReply, ApiError, notFound, sendJson } from './http-util';
import { IdempotencyStore } from './idempotency';
import { RateLimiter } from './rate-limit';
import { StreamHub } from './stream';
import { WebhookDispatcher } from './webhooks';

export { DEFAULT_RULES } from './agent';
export { EmulatorAdmin } from './admin-client';
export type { Counters } from './counters';
export type {
  EmulatorConfig,
  EmulatorConfigInput,
  FaultConfig,
  MalformedMode,
  EndpointClass,
} from './config';
export { loadConfigFile, resolveConfig, ConfigError } from './config';
export { signWebhook } from './webhooks';

export const DEFAULT_API_KEY = 'emu_test_key';
export const DEFAULT_ADMIN_KEY = 'emu_admin_key';

export interface StartEmulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  adminKey?: string;
  config?: EmulatorConfigInput;
}

export interface RunningEmulator {
  /** Origin, e.g. http://127.0.0.1:43123 (no trailing slash). */
  url: string;
  /** What clients use as COASTY_BASE_URL: `${url}/v1`. */
  baseUrl: string;
  port: number;
  apiKey: string;
  adminKey: string;
  webhookSecret: string;
  machines: string[];
  config: EmulatorConfig;
  admin: EmulatorAdmin;
  counters(): Counters;
  stop(): Promise<void>;
}

export function deriveAdminKey(apiKey: string): string {
  return apiKey === DEFAULT_API_KEY ? DEFAULT_ADMIN_KEY : `${apiKey}_admin`;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const config = resolveConfig(options.config);
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const adminKey = options.adminKey ?? deriveAdminKey(apiKey);
  const host = options.host ?? '127.0.0.1';
  const counters = createCounters(config.machines);
  const faults = new FaultInjector(config.seed, config.faults);
  const hub = new StreamHub(config, counters, faults);
  const webhooks = new WebhookDispatcher(config.webhooks, counters, config.seed);
  const engine = new Engine(config, counters, {
    onEvent(rec, event) {
      hub.notify(rec);
      if (rec.run.webhook_url) webhooks.enqueue(rec.run.id, rec.run.webhook_url, event);
    },
  });
  const idempotency = new IdempotencyStore(config.idempotencyTtlMs);
  const limiter = new RateLimiter(config.rateLimit);
  const initialKeys = [apiKey, ...config.apiKeys];
  const ctx: EmulatorContext = {
    config,
    counters,
    engine,
    hub,
    faults,
    idempotency,
    limiter,
    apiKeys: new Set(initialKeys),
    adminKey,
    machineSet: new Set(config.machines),
    reset() {
      hub.closeAll();
      ctx.apiKeys = new Set(initialKeys);
      engine.reset();
      webhooks.reset();
      idempotency.reset();
      limiter.reset();
      faults.set(config.faults);
      resetCounters(counters, config.machines);
    },
  };

  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(
        res,
        errorReply(new ApiError(500, 'internal_error', `emulator error: ${(err as Error).message}`)),
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const sweepTimer = setInterval(
    () => {
      const now = Date.now();
      engine.sweep(now);
      idempotency.sweep(now);
    },
    Math.max(10, Math.min(60_000, Math.floor(Math.min(config.retentionMs, config.idempotencyTtlMs) / 2))),
  );
  sweepTimer.unref();

  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let stopping: Promise<void> | null = null;
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    apiKey,
    adminKey,
    webhookSecret: config.webhooks.secret,
    machines: [...config.machines],
    config,
    admin: new EmulatorAdmin(url, adminKey),
    counters: () => snapshotCounters(counters),
    stop() {
      stopping ??= (async () => {
        clearInterval(sweepTimer);
        engine.stop();
        hub.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await webhooks.stop();
        await closed;
      })();
      return stopping;
    },
  };
}

async function handle(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  if (url.pathname === '/v1' || url.pathname.startsWith('/v1/')) return handleApi(ctx, req, res, url);
  if (url.pathname === '/_emulator' || url.pathname.startsWith('/_emulator/'))
    return handleAdmin(ctx, req, res, url);
  req.resume();
  sendJson(
    res,
    errorReply(notFound(`no such endpoint: ${req.method} ${url.pathname}; the API is under /v1`)),
  );
}
