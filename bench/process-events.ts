// Followers of one process's event stream (GET /api/processes/{id}/events): what each costs serve.
// `coasty-temporal serve` runs in its own process (measured from /proc), beside a worker and the
// emulator in theirs. For each follower count, a fresh batch of ITEMS items is started and that many
// followers read its stream from the start to process_finished; serve's CPU time and peak memory are
// read before and after. The cost of one follower is the difference to a single follower, divided.
//   node --import tsx bench/process-events.ts [--full] [--items 50] [--followers 1,20]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { runBatch } from '../workflows/run-batch';
import { batch } from '../test/batch/specs';
import {
  bundleWorkflows,
  numberFlag,
  numberList,
  parseFlags,
  procStats,
  ROOT,
  round,
  spawnBenchWorker,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['items', 'followers']);
const ITEMS = numberFlag(values.items, full ? 200 : 50);
const FOLLOWERS = numberList(values.followers, full ? [1, 20, 100] : [1, 20]);
const FOLLOWER_GOAL_MB = 2;

const bench = startResult(
  'process-events',
  "Followers of a process's event stream: serve's cost per follower",
  full,
  {
    items: ITEMS,
    followers: FOLLOWERS,
  },
);

const temporal = await startTemporal();
const emu = await startEmulatorProcess({ machines: 8, agent: { paceMs: 5 } });
const bundle = await bundleWorkflows('main');
const taskQueue = uniqueId('process-events');
const worker = await spawnBenchWorker({
  temporalAddress: temporal.server.address,
  baseUrl: emu.baseUrl,
  apiKey: emu.apiKey,
  taskQueue,
  bundlePath: bundle.codePath,
  maxConcurrentActivities: 100,
});
const serve = spawn(
  process.execPath,
  ['--import', 'tsx', join(ROOT, 'client/cli.ts'), 'serve', '--port', '0'],
  {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.server.address,
      COASTY_BASE_URL: emu.baseUrl,
      COASTY_API_KEY: emu.apiKey,
      COASTY_TASK_QUEUE: taskQueue,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const serveUrl = await withTimeout(
  'serve to listen',
  new Promise<string>((resolve) =>
    createInterface({ input: serve.stdout! }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) resolve(match[1]!);
    }),
  ),
  60_000,
);
// Open mode (no tokens, loopback): the first page gives a session cookie.
const cookie = (await fetch(serveUrl, { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;

async function follow(id: string): Promise<number> {
  const response = await fetch(new URL(`api/processes/${encodeURIComponent(id)}/events`, serveUrl), {
    headers: { cookie, accept: 'text/event-stream' },
  });
  if (response.status !== 200) throw new Error(`events of ${id}: HTTP ${response.status}`);
  const text = await response.text();
  if (!text.includes('"type":"process_finished"')) throw new Error(`the stream of ${id} ended early`);
  return text.match(/^data: /gm)?.length ?? 0;
}

const rows: Array<{
  followers: number;
  events: number;
  cpuSeconds: number;
  peakRssMb: number;
  seconds: number;
}> = [];
try {
  for (const followers of FOLLOWERS) {
    const before = procStats(serve.pid!);
    const started = performance.now();
    // The resident set while this stage runs (VmHWM is the peak of the whole process life).
    let stageRssMb = before.rssMb;
    const sampler = setInterval(() => (stageRssMb = Math.max(stageRssMb, procStats(serve.pid!).rssMb)), 100);
    const handle = await temporal.client.workflow.start(runBatch, {
      taskQueue,
      workflowId: uniqueId(`events-batch-${followers}`),
      args: [batch(ITEMS, { taskTemplate: 'Verify invoice {{item.id}} [steps=3]' })],
    });
    const counts = await withTimeout(
      `${followers} followers to read the stream`,
      Promise.all(Array.from({ length: followers }, () => follow(handle.workflowId))),
      600_000,
    );
    await handle.result();
    clearInterval(sampler);
    if (new Set(counts).size !== 1)
      throw new Error(`followers got different event counts: ${[...new Set(counts)]}`);
    const after = procStats(serve.pid!);
    rows.push({
      followers,
      events: counts[0]!,
      cpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 2),
      peakRssMb: Math.max(stageRssMb, after.rssMb),
      seconds: round((performance.now() - started) / 1000, 1),
    });
    console.error(`bench: ${followers} followers: ${JSON.stringify(rows.at(-1))}`);
  }
} finally {
  serve.kill('SIGTERM');
  await new Promise((resolve) => serve.once('exit', resolve));
  await worker.stop();
  await emu.stop();
  await temporal.stop();
  await bundle.cleanup();
}

const one = rows[0]!;
const most = rows.at(-1)!;
const extra = most.followers - one.followers;
const cpuPerFollowerMs = extra > 0 ? round(((most.cpuSeconds - one.cpuSeconds) / extra) * 1000) : 0;
const rssPerFollowerMb = extra > 0 ? round((most.peakRssMb - one.peakRssMb) / extra, 2) : 0;
bench.table({
  title: `serve while followers read one batch of ${ITEMS} items from start to end (its own process)`,
  columns: ['followers', 'events each', 'serve CPU (s)', 'serve RSS at most (MB)', 'batch wall time (s)'],
  rows: rows.map((row) => [row.followers, row.events, row.cpuSeconds, row.peakRssMb, row.seconds]),
});
bench.goal({
  goal: `one more follower of a process costs serve under ${FOLLOWER_GOAL_MB} MB (the log is shared)`,
  met: rssPerFollowerMb < FOLLOWER_GOAL_MB,
  measured: `${rssPerFollowerMb} MB and ${cpuPerFollowerMs} ms of CPU per follower beyond the first (${one.followers} vs ${most.followers} followers, ${most.events} events each)`,
});
bench.note(
  'Followers of one process share one reader of Temporal and the runs API; each costs its socket and the writes of its copy of the events.',
);
bench.result.raw = rows;
await bench.finish();
