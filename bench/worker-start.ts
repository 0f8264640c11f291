// Worker start-up: from the workflow sources (createWorker bundles them, what a checkout's worker
// does) against from a bundle built once (createWorker({ workflowBundle }), what the tests and the
// chaos suite do), alternated in the same run so that load hits both alike; and the installed
// package's `coasty-temporal worker` (compiled dist/, plain Node, the bundle built with the package).
//   in process:   createWorker(...) until it resolves, then worker.run() until it polls (RUNNING);
//   child process: spawn `node --import tsx test/helpers/worker-main.ts` until it prints "Worker ready";
//   packaged:      `npm run build:dist` once, then spawn `node dist/client/cli.js worker` until ready.
//   node --import tsx bench/worker-start.ts [--full] [--rounds 5]
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { RunsClient } from '../api/runs-client';
import { writeWorkflowBundle } from '../test/helpers/workflow-bundle';
import { createWorker } from '../worker/index';
import {
  median,
  numberFlag,
  parseFlags,
  ROOT,
  round,
  startResult,
  startTemporal,
  uniqueId,
  waitFor,
  withTimeout,
} from './lib';

Runtime.install({ logger: new DefaultLogger('WARN') });

const { full, values } = parseFlags(['rounds']);
const ROUNDS = numberFlag(values.rounds, full ? 10 : 5);
const GOAL_MS = 1000;
// Nothing is ever dispatched to these workers: the runs API is never called.
const UNUSED_API = { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'unused' };

const bench = startResult('worker-start', 'Worker start from the sources vs from a prebuilt bundle', full, {
  rounds: ROUNDS,
});

const temporal = await startTemporal();
const connection = await NativeConnection.connect({ address: temporal.server.address });
const bundle = await writeWorkflowBundle();
const client = new RunsClient(UNUSED_API);
const distStarted = performance.now();
const dist = spawnSync('npm', ['run', '--silent', 'build:dist'], {
  cwd: ROOT,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (dist.status !== 0) throw new Error(`npm run build:dist failed (exit ${dist.status})`);
const distMs = performance.now() - distStarted;

type Mode = 'sources' | 'bundle';

async function inProcess(mode: Mode): Promise<{ createMs: number; runningMs: number }> {
  const t0 = performance.now();
  const worker = await createWorker({
    connection,
    taskQueue: uniqueId('worker-start'),
    client,
    env: {},
    ...(mode === 'bundle' ? { workflowBundle: { codePath: bundle.codePath } } : {}),
  });
  const createMs = performance.now() - t0;
  const running = worker.run();
  await waitFor('the worker to poll', () => worker.getState() === 'RUNNING', 60_000, 5);
  const runningMs = performance.now() - t0;
  worker.shutdown();
  await running;
  return { createMs, runningMs };
}

async function childProcess(mode: Mode | 'packaged'): Promise<number> {
  const t0 = performance.now();
  const queue = uniqueId('worker-start');
  const args =
    mode === 'packaged'
      ? [join(ROOT, 'dist/client/cli.js'), 'worker', '--task-queue', queue]
      : ['--import', 'tsx', join(ROOT, 'test/helpers/worker-main.ts'), '--task-queue', queue];
  if (mode === 'bundle') args.push('--bundle', bundle.codePath);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.server.address,
      COASTY_BASE_URL: UNUSED_API.baseUrl,
      COASTY_API_KEY: UNUSED_API.apiKey,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await withTimeout(
    'the child worker to be ready',
    new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('Worker ready')) return;
        if (mode === 'packaged' && !line.includes('workflow code: prebuilt bundle'))
          reject(new Error(`the packaged worker did not start from its bundle: ${line}`));
        resolve();
      });
      void exited.then(() => reject(new Error('the child worker exited before it was ready')));
    }),
    120_000,
  );
  const readyMs = performance.now() - t0;
  child.kill('SIGTERM');
  await exited;
  return readyMs;
}

const samples: Record<Mode, { createMs: number[]; runningMs: number[]; childMs: number[] }> = {
  sources: { createMs: [], runningMs: [], childMs: [] },
  bundle: { createMs: [], runningMs: [], childMs: [] },
};
const packagedMs: number[] = [];
try {
  for (let round_ = 0; round_ < ROUNDS; round_++) {
    for (const mode of round_ % 2 === 0
      ? (['sources', 'bundle'] as const)
      : (['bundle', 'sources'] as const)) {
      const { createMs, runningMs } = await inProcess(mode);
      samples[mode].createMs.push(createMs);
      samples[mode].runningMs.push(runningMs);
      samples[mode].childMs.push(await childProcess(mode));
      console.error(
        `bench: round ${round_ + 1} ${mode}: create ${round(createMs)} ms, child ${round(samples[mode].childMs.at(-1)!)} ms`,
      );
    }
    packagedMs.push(await childProcess('packaged'));
    console.error(`bench: round ${round_ + 1} packaged: child ${round(packagedMs.at(-1)!)} ms`);
  }
} finally {
  await client.close();
  await connection.close();
  await temporal.stop();
  await bundle.cleanup();
}

const ms = (values: number[]) => round(median(values));
bench.table({
  title: `Worker start, median of ${ROUNDS} rounds (ms); bundling once took ${bundle.ms} ms (${round(bundle.bytes / 1e6, 1)} MB)`,
  columns: ['workflow code', 'createWorker', 'until polling', 'child process until ready', 'child max'],
  rows: (['sources', 'bundle'] as const).map((mode) => [
    mode === 'sources' ? 'from the sources (bundled at start)' : 'from a prebuilt bundle',
    ms(samples[mode].createMs),
    ms(samples[mode].runningMs),
    ms(samples[mode].childMs),
    round(Math.max(...samples[mode].childMs)),
  ]),
});
bench.table({
  title: `The installed package's worker (compiled dist/, plain Node; build:dist took ${round(distMs)} ms), median of ${ROUNDS} rounds (ms)`,
  columns: ['worker', 'child process until ready', 'child max'],
  rows: [
    [
      '`coasty-temporal worker` from the package (its prebuilt bundle)',
      ms(packagedMs),
      round(Math.max(...packagedMs)),
    ],
    [
      'a checkout through tsx, from a prebuilt bundle',
      ms(samples.bundle.childMs),
      round(Math.max(...samples.bundle.childMs)),
    ],
  ],
});
const fromBundle = median(samples.bundle.runningMs);
const fromSources = median(samples.sources.runningMs);
bench.goal({
  goal: `worker start from a bundle under ${GOAL_MS} ms`,
  met: fromBundle < GOAL_MS,
  measured: `median ${round(fromBundle)} ms until polling (from the sources: ${round(fromSources)} ms, ${round(fromSources / fromBundle, 1)}x); a child process until ready ${ms(samples.bundle.childMs)} vs ${ms(samples.sources.childMs)} ms`,
});
bench.note(
  'A child process also pays for Node, tsx and the module graph: the difference between the two rows is the bundling.',
);
bench.result.raw = { ...samples, packaged: packagedMs };
await bench.finish();
