// What a scenario gets: its size, the Temporal server to use, a log, and a place to register
// everything it starts so that the suite stops it however the scenario ends.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { RunsClient } from '../../../api/runs-client';
import { startEmulator, type EmulatorConfigInput, type RunningEmulator } from '../../../emulator';
import { spawnChaosWorker, type ChaosWorker } from './worker';

/** The secret every chaos task carries as `{{secret.CHAOS_PASSWORD}}`; no history or log may show it. */
export const SECRET_NAME = 'CHAOS_PASSWORD';

export interface ChaosContext {
  /** Concurrent workflows per scenario. */
  n: number;
  long: boolean;
  /** The Temporal server of every scenario but the server-kill one (which starts its own). */
  temporalAddress: string;
  /** Unique per suite invocation: keeps workflow ids and task queues apart on a reused server. */
  tag: string;
  log(line: string): void;
  /** Registers a stop function; the suite calls them in reverse order after each scenario. */
  defer(stop: () => Promise<unknown> | unknown): void;
}

export function suiteTag(): string {
  return `${Date.now().toString(36)}${process.pid.toString(36)}`;
}

export interface ScenarioStack {
  label: string;
  emulator: RunningEmulator;
  api: RunsClient;
  connection: Connection;
  client: Client;
  taskQueue: string;
  temporalAddress: string;
  secret: string;
  /** Every worker started for this scenario (killed ones included): their output is scanned. */
  workers: ChaosWorker[];
  /** A child worker; `apiKey` overrides the emulator's key (a worker deployed after a key rotation). */
  spawnWorker(options?: { apiKey?: string; env?: NodeJS.ProcessEnv }): Promise<ChaosWorker>;
}

export interface StackOptions {
  label: string;
  emulator?: EmulatorConfigInput;
  /** Default: the context's server. */
  temporalAddress?: string;
  /** Start one worker right away (default true). */
  worker?: boolean;
  /** The secret's value (default: a random one). */
  secret?: string;
  /** The emulator's API key (default: a random one). */
  apiKey?: string;
}

/** A fresh emulator (one machine per run, fast reconnect hints), a client, and a child worker. */
export async function startScenarioStack(ctx: ChaosContext, options: StackOptions): Promise<ScenarioStack> {
  const temporalAddress = options.temporalAddress ?? ctx.temporalAddress;
  const secret = options.secret ?? `chaos-secret-${randomBytes(9).toString('hex')}`;
  const apiKey = options.apiKey ?? `emu_chaos_${randomBytes(12).toString('hex')}`;
  const emulator = await startEmulator({
    apiKey,
    config: {
      machines: Math.min(1000, Math.max(ctx.n, 4)),
      agent: { paceMs: 5 },
      stream: { retryMs: 100, retryJitterMs: 100 },
      ...options.emulator,
    },
  });
  ctx.defer(() => emulator.stop());
  const api = new RunsClient({ baseUrl: emulator.baseUrl, apiKey });
  ctx.defer(() => api.close());
  const connection = await Connection.connect({ address: temporalAddress });
  ctx.defer(() => connection.close());
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `chaos-${options.label}-${ctx.tag}`;
  const workers: ChaosWorker[] = [];
  const stack: ScenarioStack = {
    label: options.label,
    emulator,
    api,
    connection,
    client,
    taskQueue,
    temporalAddress,
    secret,
    workers,
    async spawnWorker(workerOptions = {}) {
      const worker = await spawnChaosWorker({
        temporalAddress,
        taskQueue,
        baseUrl: emulator.baseUrl,
        apiKey: workerOptions.apiKey ?? apiKey,
        env: { [`COASTY_SECRET_${SECRET_NAME}`]: secret, ...workerOptions.env },
      });
      workers.push(worker);
      ctx.defer(() => worker.kill());
      return worker;
    },
  };
  if (options.worker !== false) await stack.spawnWorker();
  return stack;
}
