import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { testServerAddress } from './temporal';
import { cliNodeArgs, nodeArgsFor } from './test-build';
import { testWorkflowBundle } from './workflow-bundle';

const workerMain = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
}

/**
 * A worker in a child process, resolved once it says it is ready: `coasty-temporal worker` itself
 * with `cli: true` (it bundles the workflow code as it starts), else the same worker started from
 * the test run's bundle (test/helpers/worker-main.ts).
 */
export async function spawnWorker(options: {
  taskQueue: string;
  baseUrl: string;
  apiKey: string;
  env?: NodeJS.ProcessEnv;
  cli?: boolean;
}): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TEMPORAL_ADDRESS: testServerAddress(),
    COASTY_BASE_URL: options.baseUrl,
    COASTY_API_KEY: options.apiKey,
  };
  delete env.NODE_TEST_CONTEXT;
  const bundle = testWorkflowBundle();
  const args = options.cli
    ? [...cliNodeArgs(), 'worker', '--task-queue', options.taskQueue]
    : [...nodeArgsFor(workerMain), '--task-queue', options.taskQueue];
  if (!options.cli && bundle) args.push('--bundle', bundle.codePath);
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('Worker ready')) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`worker exited (${code}) before it was ready:\n${output.join('\n')}`)),
    );
  });
  return { child, output, exited };
}
