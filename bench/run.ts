// `npm run bench`: every benchmark, one after the other, each in its own process (its own Temporal dev
// server, emulator and worker), then docs/performance.md from the results.
//   npm run bench                         default sizes, about half an hour on 2 cores (fleet: 20 minutes)
//   npm run bench -- --skip fleet         the rest, about ten minutes
//   npm run bench -- --full               the sizes (much longer)
//   npm run bench -- --only stream,batch  some of them (the report still shows every results file)
//   npm run bench -- --report             only rewrite docs/performance.md from bench/results
// Each benchmark has a time limit; one that fails or overruns is reported as such and the rest go on.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHMARKS, writeReport, type RunStatus } from './report';
import { ROOT } from './lib';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
    report: { type: 'boolean', default: false },
  },
});

// Order of execution (batch last); time limits in seconds for default and --full sizes.
const PLAN: Array<{ name: (typeof BENCHMARKS)[number]; limit: number; fullLimit: number }> = [
  { name: 'history', limit: 240, fullLimit: 1200 },
  { name: 'stream', limit: 300, fullLimit: 1200 },
  { name: 'latency', limit: 240, fullLimit: 600 },
  { name: 'worker-start', limit: 300, fullLimit: 600 },
  { name: 'resume', limit: 300, fullLimit: 900 },
  { name: 'concurrency', limit: 420, fullLimit: 1800 },
  // Four ways to follow N runs at an agent's pace, one after the other, each on fresh servers.
  { name: 'fleet', limit: 2400, fullLimit: 10800 },
  { name: 'process-events', limit: 300, fullLimit: 1200 },
  { name: 'batch', limit: 600, fullLimit: 3600 },
];

const pick = (list?: string) => (list ? list.split(',').map((s) => s.trim()) : undefined);
const only = pick(values.only);
const skip = pick(values.skip) ?? [];
for (const name of [...(only ?? []), ...skip]) {
  if (!PLAN.some((p) => p.name === name))
    throw new Error(`unknown benchmark ${name}; known: ${PLAN.map((p) => p.name).join(', ')}`);
}

function runOne(name: string, limitS: number): Promise<RunStatus> {
  const started = performance.now();
  const args = ['--import', 'tsx', join(ROOT, `bench/${name}.ts`), ...(values.full ? ['--full'] : [])];
  console.log(`\n=== ${name} (limit ${limitS} s)${values.full ? ' --full' : ''} ===`);
  const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM'); // the benchmark stops its own servers and children on SIGTERM
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  }, limitS * 1000);
  const stopChild = () => child.kill('SIGTERM');
  process.once('SIGINT', stopChild);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', stopChild);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const status = timedOut ? 'timed out' : code === 0 ? 'ok' : 'failed';
      console.log(`=== ${name}: ${status} in ${seconds} s ===`);
      resolve({ name, status, seconds });
    });
  });
}

const statuses: RunStatus[] = [];
if (!values.report) {
  for (const { name, limit, fullLimit } of PLAN) {
    if ((only && !only.includes(name)) || skip.includes(name)) {
      statuses.push({ name, status: 'skipped', seconds: 0 });
      continue;
    }
    statuses.push(await runOne(name, values.full ? fullLimit : limit));
  }
  console.log('\nsummary:');
  for (const s of statuses) console.log(`  ${s.name.padEnd(12)} ${s.status.padEnd(10)} ${s.seconds} s`);
}
console.log(`wrote ${await writeReport(statuses)}`);
process.exitCode = statuses.some((s) => s.status === 'failed' || s.status === 'timed out') ? 1 : 0;
