import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { freePort } from './ports';
import { findTemporalCli, isAlive, type TemporalCli } from './temporal-cli';

export const SEARCH_ATTRIBUTES = ['CoastyStatus=Keyword'];

/**
 * Dynamic config every embedded server gets. Eager activity dispatch hands a just-scheduled
 * activity back to the worker in the reply to its workflow task completion, saving a server
 * round trip (about 45 ms here) before the stream opens and before each resume. On any other
 * server it is the operator's setting of the same key; without it runs behave the same, a hop later.
 */
export const DEFAULT_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'system.enableActivityEagerExecution': true,
};

export interface DevServerOptions {
  cli?: TemporalCli;
  ip?: string;
  port?: number;
  /** Serve the Web UI on this port (0: a free port); omitted: headless. */
  uiPort?: number;
  /** Persist state in this SQLite file; omitted: in memory. */
  dbFilename?: string;
  namespace?: string;
  /** `--dynamic-config-value` entries, e.g. { 'limit.historyCount.suggestContinueAsNew': 200 }. */
  dynamicConfig?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The temporal process (not the guard). */
  pid: number;
  cli: TemporalCli;
  stop(): Promise<void>;
}

const guardPath = fileURLToPath(new URL('./orphan-guard.mjs', import.meta.url));

/**
 * A port we chose free can be taken by another process before the server binds it (every free-port
 * pick has that race, and a loaded machine with many servers starting meets it): such a start is
 * tried again with fresh ports, a few times. A port given explicitly that is in use fails at once.
 */
const START_ATTEMPTS = 3;
const PORT_IN_USE = /listen tcp [^\s]*:(\d+): bind: address already in use/;

/** Starts `temporal server start-dev` and resolves once a client can really talk to it. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = options.cli ?? (await findTemporalCli({ log: options.log }));
  const explicit = new Set([options.port, options.uiPort].filter((port) => port));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(cli, options);
    } catch (error) {
      const taken = PORT_IN_USE.exec((error as Error).message)?.[1];
      if (!taken || explicit.has(Number(taken)) || attempt === START_ATTEMPTS) throw error;
      options.log?.(`port ${taken} was taken before the Temporal dev server bound it; starting again`);
    }
  }
}

async function startOnce(cli: TemporalCli, options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--http-port',
    String(await freePort(ip)),
    '--metrics-port',
    String(await freePort(ip)),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  let uiUrl: string | undefined;
  if (options.uiPort === undefined) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort || (await freePort(ip));
    args.push('--ui-ip', ip, '--ui-port', String(uiPort));
    uiUrl = `http://${ip}:${uiPort}`;
  }
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  for (const attribute of SEARCH_ATTRIBUTES) args.push('--search-attribute', attribute);
  for (const [key, value] of Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const guard = spawn(process.execPath, [guardPath, cli.path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  guard.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.push(chunk);
    if (output.length > 200) output.splice(0, output.length - 200);
  });
  const pid = await readChildPid(guard);
  const address = `${ip}:${port}`;
  const server: DevServer = { address, namespace, uiUrl, pid, cli, stop: () => stopGuarded(guard, pid) };

  try {
    await waitUntilServing(address, namespace, guard, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await server.stop();
    const tail = output.join('').trim().split('\n').slice(-15).join('\n');
    throw new Error(`${(error as Error).message}\n--- temporal server output (last lines) ---\n${tail}`, {
      cause: error,
    });
  }
  return server;
}

function readChildPid(guard: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: guard.stdout! });
    const onExit = (code: number | null) =>
      reject(new Error(`the Temporal dev server did not start (exit ${code})`));
    guard.once('exit', onExit);
    lines.once('line', (line) => {
      guard.off('exit', onExit);
      const match = /^child-pid (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`unexpected output from the process guard: ${line}`));
    });
  });
}

const ATTEMPT_MS = 5_000;

async function waitUntilServing(address: string, namespace: string, guard: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (guard.exitCode !== null)
      throw new Error(`the Temporal dev server exited with code ${guard.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        // A deadline on each try: something else listening on the port may accept and never answer,
        // and a call without one would wait for it forever instead of seeing our server exit.
        await connection.withDeadline(Math.min(deadline, Date.now() + ATTEMPT_MS), () =>
          connection.workflowService.describeNamespace({ namespace }),
        );
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  throw new Error(
    `the Temporal dev server at ${address} did not accept connections within ${timeoutMs / 1000} s (${(lastError as Error)?.message})`,
  );
}

async function stopGuarded(guard: ChildProcess, pid: number): Promise<void> {
  if (guard.exitCode === null && guard.signalCode === null) {
    const exited = new Promise((resolve) => guard.once('exit', resolve));
    guard.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
    if (timedOut) guard.kill('SIGKILL');
  }
  // The guard normally takes the server down with it; make sure even if the guard was killed.
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
  }
}
