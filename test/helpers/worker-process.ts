import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { testServerAddress } from './temporal';

const bin = fileURLToPath(new URL('../../bin/coasty-temporal.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
}

/** `coasty-temporal worker` in a child process, resolved once it says it is ready. */
export async function spawnWorker(options: {
  taskQueue: string;
  baseUrl: string;
  apiKey: string;
  env?: NodeJS.ProcessEnv;
}): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TEMPORAL_ADDRESS: testServerAddress(),
    COASTY_BASE_URL: options.baseUrl,
    COASTY_API_KEY: options.apiKey,
  };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [bin, 'worker', '--task-queue', options.taskQueue], {
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
