// A worker in a child process (test/helpers/worker-main.ts: `coasty-temporal worker` with the run's
// workflow bundle), pointed at any Temporal address (the shared test server or a scenario's own),
// with its output kept for the leak scan.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nodeArgsFor } from '../../helpers/test-build';
import { testWorkflowBundle } from '../../helpers/workflow-bundle';

const workerMain = fileURLToPath(new URL('../../helpers/worker-main.ts', import.meta.url));
// The worker runs under the project's orphan guard: if this process dies (even by SIGKILL), the
// guard sees its stdin close and stops the worker, so no worker outlives the suite.
const guard = fileURLToPath(new URL('../../../dev/orphan-guard.mjs', import.meta.url));
// A bound, not a pace: a worker from the bundle is ready in about a second, far longer on a machine
// loaded many times over.
const READY_TIMEOUT_MS = 180_000;
const MAX_OUTPUT_LINES = 20_000;

export interface ChaosWorker {
  /** The orphan guard around the worker. */
  child: ChildProcess;
  /** The worker process itself (what kill() kills). */
  pid: number;
  /** stdout and stderr lines, in arrival order (bounded). */
  output: string[];
  /** Resolves with the exit code or the signal name. */
  exited: Promise<number | string>;
  alive(): boolean;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<number | string>;
}

export interface SpawnWorkerOptions {
  temporalAddress: string;
  taskQueue: string;
  baseUrl: string;
  apiKey: string;
  /** Extra environment (secrets). */
  env?: NodeJS.ProcessEnv;
}

/** The environment of a child worker: ours minus Temporal and codec settings that would redirect it. */
export function workerEnv(options: SpawnWorkerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('TEMPORAL_') || name.startsWith('COASTY_')) continue;
    if (name === 'NODE_TEST_CONTEXT' || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return {
    ...env,
    ...options.env,
    TEMPORAL_ADDRESS: options.temporalAddress,
    COASTY_BASE_URL: options.baseUrl,
    COASTY_API_KEY: options.apiKey,
  };
}

export async function spawnChaosWorker(options: SpawnWorkerOptions): Promise<ChaosWorker> {
  const bundle = testWorkflowBundle();
  const child = spawn(
    process.execPath,
    [
      guard,
      process.execPath,
      ...nodeArgsFor(workerMain),
      '--task-queue',
      options.taskQueue,
      ...(bundle ? ['--bundle', bundle.codePath] : []),
    ],
    { env: workerEnv(options), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > MAX_OUTPUT_LINES) output.splice(0, output.length - MAX_OUTPUT_LINES);
  };
  let killed = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(killed ? 'SIGKILL' : (code ?? signal ?? -1))),
  );
  // The guard's stdout carries only "child-pid <pid>"; the worker's stdout and stderr come on its stderr.
  const pid = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const match = /^child-pid (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`unexpected output from the orphan guard: ${line}`));
    });
    void exited.then((code) => reject(new Error(`the worker's guard exited (${code}) at once`)));
  });
  const worker: ChaosWorker = {
    child,
    pid,
    output,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      if (worker.alive()) {
        killed = true;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
      return exited;
    },
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        keep(line);
        if (line.startsWith('Worker ready')) resolve();
      });
      void exited.then((code) =>
        reject(new Error(`worker exited (${code}) before it was ready:\n${output.slice(-30).join('\n')}`)),
      );
      timer = setTimeout(
        () => reject(new Error(`worker not ready within ${READY_TIMEOUT_MS / 1000} s`)),
        READY_TIMEOUT_MS,
      );
    });
  } catch (error) {
    await worker.kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return worker;
}
