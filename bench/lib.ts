// Shared pieces of the benchmarks: results files, tables, statistics, bounded waits, process stats,
// a fresh Temporal dev server, and a worker in a child process. Everything binds 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../dev/dev-server';
import { machineFacts, type MachineFacts } from './machine';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(ROOT, 'bench/results');

export type Cell = string | number | boolean | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

export interface Goal {
  goal: string;
  /** null: not measured (say why in `measured`). */
  met: boolean | null;
  measured: string;
}

export interface BenchResult {
  benchmark: string;
  title: string;
  date: string;
  machine: MachineFacts;
  full: boolean;
  sizes: Record<string, unknown>;
  tables: Table[];
  goals: Goal[];
  notes: string[];
  seconds: number;
  raw?: unknown;
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: number[]) => percentile(values, 50);

export function formatTable(table: Table): string {
  const cells = [table.columns, ...table.rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: Cell[]) => r.map((c, i) => String(c ?? '').padStart(widths[i] as number)).join('  ');
  const body = [line(table.columns), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)];
  return [table.title, ...body.map((l) => `  ${l}`)].join('\n');
}

/** Starts a result; `finish` prints its tables and goals and writes bench/results/<name>.json. */
export function startResult(benchmark: string, title: string, full: boolean, sizes: Record<string, unknown>) {
  const started = performance.now();
  const result: BenchResult = {
    benchmark,
    title,
    date: new Date().toISOString(),
    machine: machineFacts(),
    full,
    sizes,
    tables: [],
    goals: [],
    notes: [],
    seconds: 0,
  };
  return {
    result,
    table(table: Table) {
      result.tables.push(table);
      console.log(`\n${formatTable(table)}`);
    },
    goal(goal: Goal) {
      result.goals.push(goal);
    },
    note(text: string) {
      result.notes.push(text);
    },
    async finish(): Promise<string> {
      result.seconds = round((performance.now() - started) / 1000, 1);
      console.log('');
      for (const g of result.goals) {
        console.log(
          `goal ${g.met === null ? 'NOT MEASURED' : g.met ? 'MET' : 'MISSED'}: ${g.goal} (${g.measured})`,
        );
      }
      for (const n of result.notes) console.log(`note: ${n}`);
      await mkdir(RESULTS_DIR, { recursive: true });
      const out = join(RESULTS_DIR, `${benchmark}.json`);
      await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`wrote ${out} (${result.seconds} s)`);
      return out;
    },
  };
}

/** Polls a check until it returns a value; the tests' helper. */
export { waitUntil as waitFor } from '../test/helpers/wait';

/** Rejects when `promise` takes longer than `ms`. */
export function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn` over `items` with at most `limit` at once, results in order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcStats {
  /** Peak resident set (VmHWM), MB. */
  peakRssMb: number;
  rssMb: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
}

/** Linux /proc facts of a live process (the numbers `ps` would show). */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    peakRssMb: round(kb('VmHWM') / 1024, 1),
    rssMb: round(kb('VmRSS') / 1024, 1),
    cpuSeconds: round(ticks / CLOCK_TICKS, 2),
  };
}

/**
 * Waits until `pids` together use less than `maxCores` of CPU over a `windowMs` window (the work a
 * previous measurement left behind: a collection, history writes), at most `timeoutMs`. Returns the
 * ms waited, and whether they went quiet.
 */
export async function waitUntilQuiet(
  pids: number[],
  { windowMs = 100, maxCores = 0.15, timeoutMs = 5000 } = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const t0 = performance.now();
  const cpu = () => pids.reduce((sum, pid) => sum + procStats(pid).cpuSeconds, 0);
  let before = cpu();
  while (performance.now() - t0 < timeoutMs) {
    await sleep(windowMs); // the window over which the CPU use is measured: time is the point here
    const after = cpu();
    if (after - before < (maxCores * windowMs) / 1000)
      return { waitedMs: performance.now() - t0, quiet: true };
    before = after;
  }
  return { waitedMs: performance.now() - t0, quiet: false };
}

/** Children to kill if this process exits in a hurry (synchronous: 'exit' handlers cannot wait). */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping children`);
    process.exit(130);
  });
}

export interface Temporal {
  server: DevServer;
  connection: Connection;
  client: Client;
  stop(): Promise<void>;
}

/** A fresh dev server on 127.0.0.1 (in memory) and a client connected to it. */
export async function startTemporal(): Promise<Temporal> {
  const t0 = performance.now();
  const server = await startDevServer({ log: (line) => console.error(line) });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  console.error(
    `bench: Temporal dev server at ${server.address} (${round((performance.now() - t0) / 1000, 1)} s)`,
  );
  return {
    server,
    connection,
    client,
    async stop() {
      await connection.close().catch(() => undefined);
      await server.stop();
    },
  };
}

/** The workflow code bundled once per benchmark process, so each worker started does not bundle again. */
export async function bundleWorkflows(
  which: 'main' | 'bench',
): Promise<{ codePath: string; cleanup(): Promise<void> }> {
  const workflowsPath =
    which === 'main' ? join(ROOT, 'workflows/index.ts') : join(ROOT, 'bench/workflows/index.ts');
  const t0 = performance.now();
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const dir = await mkdtemp(join(os.tmpdir(), 'coasty-bench-'));
  const codePath = join(dir, 'workflows.js');
  await writeFile(codePath, code);
  console.error(
    `bench: workflow bundle (${which}) ${round(code.length / 1e6, 1)} MB in ${round((performance.now() - t0) / 1000, 1)} s`,
  );
  return { codePath, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.error(`bundler: ${message}`);
  },
  error(message: string) {
    console.error(`bundler: ${message}`);
  },
};

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output: string[];
  exited: Promise<number | string>;
  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
  /** SIGKILL now. */
  kill(): Promise<number | string>;
  /** A line to the worker's stdin (bench/worker-main.ts understands "reset", "profile-start", "profile-stop <file>"). */
  send(line: string): void;
  /** Resolves at the next stdout line equal to `line`. */
  waitForLine(line: string, timeoutMs?: number): Promise<void>;
}

export interface WorkerSpawnOptions {
  temporalAddress: string;
  baseUrl: string;
  apiKey: string;
  taskQueue: string;
  bundlePath: string;
  maxConcurrentActivities: number;
  /** Record (event id, time) at each heartbeat call of the stream activity; written at shutdown. */
  probeFile?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** More environment for the worker (e.g. COASTY_WEBHOOK_URL). */
  env?: NodeJS.ProcessEnv;
  /**
   * A plain SDK worker (`Worker.create` with the SDK's defaults and the fleet benchmark's baseline
   * activities, bench/fleet-activities.ts) instead of createWorker: what a Temporal user writes.
   */
  plain?: boolean;
}

/** bench/worker-main.ts in a child process (createWorker, as `coasty-temporal worker` does), once ready. */
export async function spawnBenchWorker(options: WorkerSpawnOptions): Promise<WorkerProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    '--import',
    'tsx',
    join(ROOT, 'bench/worker-main.ts'),
    '--task-queue',
    options.taskQueue,
    '--bundle',
    options.bundlePath,
    '--max-concurrent-activities',
    String(options.maxConcurrentActivities),
    ...(options.probeFile ? ['--probe-file', options.probeFile] : []),
    ...(options.plain ? ['--plain'] : []),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    COASTY_BASE_URL: options.baseUrl,
    COASTY_API_KEY: options.apiKey,
  };
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
  child.stdin!.on('error', () => undefined);
  liveChildren.add(child);
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  createInterface({ input: child.stderr! }).on('line', keep);
  const lineWaiters: Array<{ line: string; resolve: () => void }> = [];
  await withTimeout(
    'the worker to be ready',
    new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        keep(line);
        if (line.startsWith('Worker ready')) resolve();
        const waiter = lineWaiters.findIndex((w) => w.line === line);
        if (waiter >= 0) lineWaiters.splice(waiter, 1)[0]!.resolve();
      });
      void exited.then((code) =>
        reject(new Error(`worker exited (${code}) before it was ready:\n${output.join('\n')}`)),
      );
    }),
    options.readyTimeoutMs ?? 120_000,
  ).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  const pid = child.pid!;
  return {
    child,
    pid,
    output,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    send(line: string) {
      child.stdin!.write(`${line}\n`);
    },
    waitForLine(line: string, timeoutMs = 60_000) {
      return withTimeout(
        `the worker to print "${line}"`,
        new Promise<void>((resolve) => lineWaiters.push({ line, resolve })),
        timeoutMs,
      );
    },
  };
}

export interface ParsedFlags {
  full: boolean;
  values: Record<string, string | boolean | undefined>;
}

/** `--full` plus `--name value` overrides; unknown flags are an error (a typo must not run the wrong size). */
export function parseFlags(known: string[]): ParsedFlags {
  const argv = process.argv.slice(2);
  const values: Record<string, string | boolean | undefined> = {};
  let full = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--full') {
      full = true;
      continue;
    }
    const name = arg.replace(/^--/, '');
    if (!arg.startsWith('--') || !known.includes(name)) {
      throw new Error(`unknown argument ${arg}; known: --full ${known.map((k) => `--${k}`).join(' ')}`);
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) values[name] = true;
    else {
      values[name] = value;
      i++;
    }
  }
  return { full, values };
}

export function numberList(value: string | boolean | undefined, fallback: number[]): number[] {
  if (typeof value !== 'string') return fallback;
  return value.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${s}`);
    return n;
  });
}

export function numberFlag(value: string | boolean | undefined, fallback: number): number {
  return numberList(value, [fallback])[0] as number;
}

let uniq = 0;
export function uniqueId(label: string): string {
  uniq += 1;
  return `bench-${label}-${process.pid}-${uniq}`;
}

export interface EmulatorProcess {
  url: string;
  baseUrl: string;
  apiKey: string;
  adminKey: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The emulator in its own process (emulator/main.ts), so that it does not share a thread with the
 * client being measured. `config` is the emulator's configuration input (written to a temp file).
 */
export async function startEmulatorProcess(config: Record<string, unknown>): Promise<EmulatorProcess> {
  const dir = await mkdtemp(join(os.tmpdir(), 'coasty-bench-emu-'));
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(config));
  const apiKey = 'bench_key';
  const adminKey = 'bench_admin';
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'emulator/main.ts'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--api-key',
      apiKey,
      '--admin-key',
      adminKey,
      '--config',
      configPath,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
  );
  liveChildren.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    }),
  );
  try {
    const url = await withTimeout(
      'the emulator to listen',
      new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`emulator exited before listening: ${out}`)));
      }),
      60_000,
    );
    child.stdout!.resume();
    return {
      url,
      baseUrl: `${url}/v1`,
      apiKey,
      adminKey,
      pid: child.pid!,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The dev server's Prometheus endpoint: the `--metrics-port` it was started with (from /proc). */
export function devServerMetricsUrl(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const at = args.indexOf('--metrics-port');
  const port = at >= 0 ? args[at + 1] : undefined;
  if (!port) throw new Error(`the Temporal dev server (pid ${pid}) was not started with --metrics-port`);
  return `http://127.0.0.1:${port}/metrics`;
}

/**
 * Requests the dev server's frontend took, by operation (Prometheus `service_requests`, service
 * frontend, one namespace): what its clients (workers, starters, receivers) asked of it.
 */
export async function serviceRequests(
  metricsUrl: string,
  namespace = 'default',
): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!labels.includes('service_name="frontend"') || !labels.includes(`namespace="${namespace}"`)) continue;
    const operation = /operation="([^"]+)"/.exec(labels)?.[1];
    const value = Number(line.slice(line.lastIndexOf('}') + 1).trim());
    if (operation && Number.isFinite(value)) out.set(operation, (out.get(operation) ?? 0) + value);
  }
  return out;
}

/** What each operation took between two `serviceRequests` readings. */
export function requestsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [op, n] of after) {
    const d = n - (before.get(op) ?? 0);
    if (d > 0) out.set(op, d);
  }
  return out;
}

export interface SideProcess {
  child: ChildProcess;
  pid: number;
  /** The first capture group of `readyPattern` in its stdout (e.g. the URL it listens on). */
  ready: string;
  output: string[];
  stop(graceMs?: number): Promise<void>;
}

/**
 * A helper process of a benchmark (a receiver, a listener): node with tsx on `script`, ready when a
 * stdout line matches `readyPattern`; SIGTERM then SIGKILL on stop, SIGKILL if this process exits.
 */
export async function spawnSideProcess(options: {
  script: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyPattern: RegExp;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<SideProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', join(ROOT, options.script), ...(options.args ?? [])],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT },
  );
  liveChildren.add(child);
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    }),
  );
  createInterface({ input: child.stderr! }).on('line', keep);
  try {
    const ready = await withTimeout(
      `${options.script} to be ready`,
      new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          keep(line);
          const m = options.readyPattern.exec(line);
          if (m) resolve(m[1] ?? line);
        });
        void exited.then(() =>
          reject(new Error(`${options.script} exited before it was ready:\n${output.join('\n')}`)),
        );
      }),
      options.readyTimeoutMs ?? 60_000,
    );
    return {
      child,
      pid: child.pid!,
      ready,
      output,
      async stop(graceMs = 15_000) {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
