// Where a client command finds Temporal: the cluster named by the environment, the local stack another
// coasty-temporal process runs (stack.json), or a local stack it starts itself.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import {
  findStackRecord,
  liveLockHolder,
  readStackRecord,
  stateDir,
  type StackRecord,
} from '../dev/stack-file';
import type { EmbeddedStack } from '../dev/stack';
import { CodecConfigError, dataConverterFromEnv } from '../codec';
import { tracingClientInterceptors, tracingFromEnv } from '../worker/tracing';
import { CliError, EXIT } from './errors';
import { waitForRunsToSettle } from './settle';
import { DEFAULT_TASK_QUEUE } from '../workflows/names';

export { DEFAULT_TASK_QUEUE };

export type TargetMode = 'external' | 'attached' | 'embedded';

export interface Target {
  client: Client;
  namespace: string;
  /** The task queue new processes go to. */
  taskQueue: string;
  mode: TargetMode;
  address: string;
  /** The Temporal Web UI, when known (local stacks). */
  uiUrl?: string;
  /** The local stack record (attached or embedded). */
  record?: StackRecord;
  /** Set when this process started the stack. */
  stack?: EmbeddedStack;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** --task-queue, else COASTY_TASK_QUEUE, else the local stack's, else `coasty-temporal`. */
  taskQueue?: string;
  /** Start a local stack when none runs and the environment names no cluster (default true). */
  startStack?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: (line: string) => void;
}

/** The environment names a cluster or the real API: then nothing is started locally. */
export function usesExternalServices(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.TEMPORAL_ADDRESS || env.COASTY_BASE_URL || env.TEMPORAL_PROFILE);
}

export async function connectTarget(options: ConnectOptions = {}): Promise<Target> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(line));
  const explicitQueue = options.taskQueue ?? (env.COASTY_TASK_QUEUE || undefined);

  if (usesExternalServices(env)) {
    const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
    const address = connectionOptions.address ?? 'localhost:7233';
    const connection = await connect(
      { ...(connectionOptions as ConnectionOptions), address },
      'TEMPORAL_ADDRESS',
    );
    return {
      client: makeClient(connection, namespace, env),
      namespace,
      taskQueue: explicitQueue ?? DEFAULT_TASK_QUEUE,
      mode: 'external',
      address,
      close: () => connection.close(),
    };
  }

  const attached = findStackRecord(options.cwd) ?? (await waitForStartingStack(options.cwd, log));
  if (attached) return attach(attached, explicitQueue, log, env);
  if (options.startStack === false) {
    throw new CliError(
      'No local stack runs here (.coasty-temporal/stack.json) and TEMPORAL_ADDRESS is not set: ' +
        'start one with `npx coasty-temporal dev` (or `npm start`), or set TEMPORAL_ADDRESS.',
    );
  }

  const { startEmbeddedStack, StackBusyError } = await import('../dev/stack');
  let stack: EmbeddedStack;
  try {
    log('Starting the local stack (Temporal dev server, runs API emulator, worker)...');
    stack = await startEmbeddedStack({ cwd: options.cwd, env, taskQueue: explicitQueue, log });
  } catch (error) {
    if (error instanceof StackBusyError) {
      const record = await waitForStartingStack(options.cwd, log, true);
      if (record) return attach(record, explicitQueue, log, env);
    }
    throw new CliError(`Cannot start the local stack: ${(error as Error).message}`);
  }
  const { record } = stack;
  try {
    const connection = await connect({ address: record.temporalAddress }, 'the local stack');
    const client = makeClient(connection, record.namespace, env);
    return {
      client,
      namespace: record.namespace,
      taskQueue: record.taskQueue,
      mode: 'embedded',
      address: record.temporalAddress,
      uiUrl: record.uiUrl || undefined,
      record,
      stack,
      close: async () => {
        await waitForRunsToSettle(client, log);
        await connection.close();
        log('Stopping the local stack...');
        await stack.stop();
      },
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function attach(
  record: StackRecord,
  explicitQueue: string | undefined,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<Target> {
  const connection = await connect(
    { address: record.temporalAddress },
    `the local stack of pid ${record.pid} (${record.cwd})`,
  );
  if (explicitQueue && explicitQueue !== record.taskQueue) {
    log(
      `Note: the local stack's worker polls task queue ${record.taskQueue}, not ${explicitQueue}; ` +
        'start a worker for it: npx coasty-temporal worker --task-queue ' +
        explicitQueue,
    );
  }
  return {
    client: makeClient(connection, record.namespace, env),
    namespace: record.namespace,
    taskQueue: explicitQueue ?? record.taskQueue,
    mode: 'attached',
    address: record.temporalAddress,
    uiUrl: record.uiUrl || undefined,
    record,
    close: () => connection.close(),
  };
}

/** Another process holds the stack lock and is starting: wait for its stack.json (a first start may build the Temporal CLI). */
async function waitForStartingStack(
  cwd: string | undefined,
  log: (line: string) => void,
  busy = false,
): Promise<StackRecord | undefined> {
  const dir = stateDir(cwd);
  const holder = liveLockHolder(dir);
  if (holder === undefined && !busy) return undefined;
  log(`Waiting for the local stack that pid ${holder ?? '?'} is starting...`);
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline) {
    const record = readStackRecord(dir);
    if (record) return record;
    if (liveLockHolder(dir) === undefined) return undefined;
    await sleep(250);
  }
  throw new CliError(`the local stack of ${dir} did not become ready; is pid ${holder} stuck?`);
}

/**
 * A client with the workers' data converter: with COASTY_CODEC_KEY set, payloads are encrypted. With
 * OTEL_EXPORTER_OTLP_ENDPOINT set, a process it starts begins its trace here (worker/tracing.ts).
 */
export function makeClient(
  connection: Connection,
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
): Client {
  let dataConverter;
  try {
    dataConverter = dataConverterFromEnv(env);
  } catch (error) {
    if (error instanceof CodecConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  const tracing = tracingFromEnv(env);
  const interceptors = tracing ? { workflow: tracingClientInterceptors(tracing) } : undefined;
  return new Client({ connection, namespace, dataConverter, ...(interceptors ? { interceptors } : {}) });
}

async function connect(options: ConnectionOptions, what: string): Promise<Connection> {
  try {
    return await Connection.connect({ connectTimeout: 10_000, ...options });
  } catch (error) {
    throw new CliError(
      `Cannot reach Temporal at ${options.address} (${what}): ${(error as Error).message}. ` +
        'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TLS settings, or unset TEMPORAL_ADDRESS to use a local stack.',
    );
  }
}
