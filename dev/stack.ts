// The embedded stack: a Temporal dev server with a persistent database, the runs API emulator and a
// worker, in this process, on 127.0.0.1. Used by `coasty-temporal run`, `dev` and the other client
// commands when neither TEMPORAL_ADDRESS nor COASTY_BASE_URL is set. Started in that order, stopped in
// the reverse order; `.coasty-temporal/stack.json` tells commands in other terminals where it is.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type LogEntry,
  type TelemetryOptions,
  type Worker,
} from '@temporalio/worker';
import { RunsClient } from '../api/runs-client';
import { dataConverterFromEnv } from '../codec';
import { DEFAULT_SERVE_PORT } from '../serve/config';
import { WEBHOOK_PATH } from '../serve/webhooks/route';
import { startEmulator, type RunningEmulator } from '../emulator';
import { createWorker, DEFAULT_TASK_QUEUE } from '../worker';
import { metricsPortOf, metricsTelemetry } from '../worker/metrics';
import { shownEndpoint, tracesEndpointOf } from '../worker/tracing';
import { startDevServer, type DevServer } from './dev-server';
import {
  acquireStackLock,
  removeStackRecord,
  stateDir,
  writeStackRecord,
  type StackRecord,
} from './stack-file';
import { choosePort } from './stack-ports';

export const DEFAULT_TEMPORAL_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;
export const DEFAULT_EMULATOR_PORT = 8080;
/** Slow enough that a person sees the agent's steps go by in the live view. */
export const DEFAULT_EMULATOR_PACE_MS = 1000;

export interface EmbeddedStackOptions {
  /** The directory whose `.coasty-temporal/` holds the database, logs and stack.json (default: cwd). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  taskQueue?: string;
  /** Progress lines while starting and stopping (default: stderr). */
  log?: (line: string) => void;
}

export interface EmbeddedStack {
  record: StackRecord;
  stateDir: string;
  dbFilename: string;
  workerLog: string;
  serveLog: string;
  /** The emulator's API key (COASTY_API_KEY, else generated). */
  apiKey: string;
  /** Port choices that differ from the defaults, to tell the user. */
  notes: string[];
  stop(): Promise<void>;
}

export class StackBusyError extends Error {
  override name = 'StackBusyError';
  constructor(
    readonly pid: number,
    readonly dir: string,
  ) {
    super(`another coasty-temporal process (pid ${pid}) runs the local stack of ${dir}`);
  }
}

/**
 * Starts the stack, or throws StackBusyError when another live process holds this directory's stack
 * (then wait for its stack.json and attach). Every part started is stopped again if a later one fails.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(line));
  const dir = stateDir(options.cwd);
  const lock = acquireStackLock(dir);
  if (!lock.acquired) throw new StackBusyError(lock.heldBy, dir);

  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    removeStackRecord(dir);
    for (const stop of stops.reverse()) {
      await stop().catch((error: Error) => log(`while stopping the local stack: ${error.message}`));
    }
    stops.length = 0;
    lock.release();
  };

  try {
    mkdirSync(dir, { recursive: true });
    const workerLog = join(dir, 'worker.log');
    const metricsPort = metricsPortOf(undefined, env);
    const metrics = metricsPort === undefined ? undefined : metricsTelemetry(metricsPort);
    installQuietRuntime(workerLog, metrics?.telemetryOptions);
    const notes: string[] = metrics ? [`worker metrics: ${metrics.url}`] : [];
    // With OTEL_EXPORTER_OTLP_ENDPOINT: the worker's traces (CoastyPlugin reads it from env).
    const traces = tracesEndpointOf(env);
    if (traces) notes.push(`worker traces: ${shownEndpoint(traces)}`);
    const temporalPort = await choosePort('COASTY_TEMPORAL_PORT', DEFAULT_TEMPORAL_PORT, 'Temporal', env);
    const uiPort = await choosePort('COASTY_UI_PORT', DEFAULT_UI_PORT, 'Temporal Web UI', env);
    for (const choice of [temporalPort, uiPort]) if (choice.note) notes.push(choice.note);

    const dbFilename = join(dir, 'temporal.db');
    const server: DevServer = await startDevServer({
      port: temporalPort.port,
      uiPort: uiPort.port || 0,
      dbFilename,
      log,
    });
    stops.push(() => server.stop());

    const emulatorPort = await choosePort('COASTY_EMULATOR_PORT', DEFAULT_EMULATOR_PORT, 'emulator', env);
    if (emulatorPort.note) notes.push(emulatorPort.note);
    const apiKey = env.COASTY_API_KEY?.trim() || `emu_${randomBytes(12).toString('hex')}`;
    const emulator: RunningEmulator = await startEmulator({
      port: emulatorPort.port,
      apiKey,
      config: { agent: { paceMs: paceFromEnv(env) } },
    });
    stops.push(() => emulator.stop());

    const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    const connection = await NativeConnection.connect({ address: server.address });
    stops.push(() => connection.close());
    const runsClient = new RunsClient({ baseUrl: emulator.baseUrl, apiKey });
    stops.push(() => runsClient.close());
    // The web inbox (serve/): loaded here, not at the top, so the worker SDK's users need no HTTP framework.
    const servePort = await choosePort('COASTY_SERVE_PORT', DEFAULT_SERVE_PORT, 'serve (web inbox)', env);
    if (servePort.note) notes.push(servePort.note);
    const serveLog = join(dir, 'serve.log');
    const serveConnection = await Connection.connect({ address: server.address });
    stops.push(() => serveConnection.close());
    const { startServe } = await import('../serve');
    const serveOptions = {
      client: new Client({
        connection: serveConnection,
        namespace: server.namespace,
        dataConverter: dataConverterFromEnv(env),
      }),
      port: servePort.port,
      env,
      runs: runsClient,
      // The emulator's deliveries for runs with `delivery: webhook` come to serve's receiver.
      webhookSecret: emulator.webhookSecret,
      ...(metrics ? { meter: Runtime.instance().metricMeter } : {}),
      log: (line: string) => appendLine(serveLog, line),
    };
    const serve = await startServe(serveOptions).catch(async (error: NodeJS.ErrnoException) => {
      // Another stack took the free port between the check and the listen: any free port will do.
      if (error.code !== 'EADDRINUSE' || env.COASTY_SERVE_PORT?.trim()) throw error;
      const started = await startServe({ ...serveOptions, port: 0 });
      notes.push(`port ${servePort.port} was taken: serve is on ${started.port}`);
      return started;
    });
    stops.push(() => serve.stop());

    const worker: Worker = await createWorker({
      connection,
      namespace: server.namespace,
      taskQueue,
      client: runsClient,
      env,
      // The live view reads each run's steps from the stream activity's heartbeats: send them often.
      maxHeartbeatThrottleInterval: '1s',
      shutdownForceTime: '15s',
      coasty: {
        webhook: {
          url: new URL(WEBHOOK_PATH.slice(1), serve.url).toString(),
          secret: emulator.webhookSecret,
        },
      },
    });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((error: Error) => log(`worker: ${error.message}`));
    });

    const record: StackRecord = {
      version: 1,
      pid: process.pid,
      cwd: options.cwd ?? process.cwd(),
      temporalAddress: server.address,
      namespace: server.namespace,
      uiUrl: server.uiUrl ?? '',
      apiBaseUrl: emulator.baseUrl,
      taskQueue,
      serveUrl: serve.publicUrl.toString(),
      startedAt: new Date().toISOString(),
    };
    writeStackRecord(dir, record);
    let stopping: Promise<void> | undefined;
    return {
      record,
      stateDir: dir,
      dbFilename,
      workerLog,
      serveLog,
      apiKey,
      notes,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function paceFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.COASTY_EMULATOR_PACE_MS?.trim();
  if (!raw) return DEFAULT_EMULATOR_PACE_MS;
  const pace = Number(raw);
  if (!Number.isInteger(pace) || pace < 0) {
    throw new Error(`COASTY_EMULATOR_PACE_MS=${raw} is not a whole number of milliseconds`);
  }
  return pace;
}

let runtimeInstalled = false;

/**
 * The worker's own log lines would tear the live view apart: they go to `.coasty-temporal/worker.log`.
 * And the SDK's default of shutting every worker down on SIGINT is turned off (see shutdownSignals).
 */
function installQuietRuntime(path: string, telemetryOptions?: TelemetryOptions): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      // With COASTY_METRICS_PORT: the SDK's worker metrics and ours on one Prometheus endpoint.
      ...(telemetryOptions ? { telemetryOptions } : {}),
      // Ctrl-C belongs to the command: it stops watching first, and stops the worker only when it is safe.
      shutdownSignals: [],
      logger: new DefaultLogger('INFO', (entry: LogEntry) => {
        const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
        const meta = entry.meta && Object.keys(entry.meta).length ? ` ${safeJson(entry.meta)}` : '';
        try {
          appendFileSync(path, `${at} ${entry.level} ${entry.message}${meta}\n`);
        } catch {
          // a log line is not worth failing for
        }
      }),
    });
  } catch {
    // A runtime was installed already (by the embedding program): keep its logger.
  }
}

function appendLine(path: string, line: string): void {
  try {
    appendFileSync(path, `${new Date().toISOString()} ${line}\n`);
  } catch {
    // a log line is not worth failing for
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
