// N concurrent agentRun workflows on ONE worker (a child process), each run on its own emulator
// machine, S steps of P ms: wall time against the ideal S x P, worker peak RSS and CPU, and the lag
// between an event and the worker's heartbeat call for it.
//   node --import tsx bench/concurrency.ts [--full] [--n 100,300] [--steps 50] [--pace-ms 100]
// Wall time: from the first workflow start request to the last workflow close (server closeTime),
// so starting N workflows counts. Lag: the emulator stamps each event when it emits it (ms); the
// worker (bench/worker-main.ts --probe-file) notes Date.now() when the stream activity heartbeats a
// cursor that has just taken in that event; same machine, same clock. The heartbeats that reach the
// server are throttled by the SDK by design (0.8 x the 30 s heartbeat timeout), so the server's
// lastHeartbeatTime would measure the throttle, not the worker.
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { EmulatorAdmin } from '../emulator/admin-client';
import type { RunEvent } from '../api/types';
import { agentRun, type AgentRunResult } from '../workflows/agent-run';
import {
  bundleWorkflows,
  mapLimit,
  median,
  numberFlag,
  numberList,
  parseFlags,
  percentile,
  procStats,
  round,
  spawnBenchWorker,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['n', 'steps', 'pace-ms']);
const NS = numberList(values.n, full ? [100, 500, 1000] : [100, 300]);
const STEPS = numberFlag(values.steps, full ? 100 : 50);
const PACE_MS = numberFlag(values['pace-ms'], 100);
const IDEAL_S = (STEPS * PACE_MS) / 1000;
const GOAL_N = 1000;

const bench = startResult('concurrency', 'Concurrent agentRun workflows on one worker', full, {
  n: NS,
  steps: STEPS,
  pace_ms: PACE_MS,
  ideal_seconds: IDEAL_S,
});
if (!full && values.steps === undefined) {
  bench.note(
    `Default size: ${STEPS} steps x ${PACE_MS} ms (ideal ${IDEAL_S} s) to fit the time; --full runs 100 steps (10 s) with N = 100, 500, 1,000.`,
  );
}

interface Row {
  n: number;
  wallS: number;
  ratio: number;
  startS: number;
  runMedianS: number;
  runMaxS: number;
  peakRssMb: number;
  workerCpuS: number;
  serverCpuS: number;
  emulatorCpuS: number;
  lagP50: number;
  lagP95: number;
  lagP99: number;
  lagMax: number;
  lagSamples: number;
  createP50: number;
  createMax: number;
  openP50: number;
  openMax: number;
  closeP50: number;
  closeMax: number;
  /** Worker main-thread event-loop delay over the measured window. */
  loop: { p50: number; p99: number; max: number };
  failed: number;
}

const temporalStack = await startTemporal();
const bundle = await bundleWorkflows('main');
const rows: Row[] = [];

async function measure(n: number): Promise<Row> {
  const emu = await startEmulatorProcess({
    machines: n,
    agent: { paceMs: PACE_MS },
    stream: { maxOpenPerKey: null },
  });
  const admin = new EmulatorAdmin(emu.url, emu.adminKey);
  const taskQueue = uniqueId(`concurrency-${n}`);
  const probeFile = join(os.tmpdir(), `${taskQueue}.probe.json`);
  const worker = await spawnBenchWorker({
    temporalAddress: temporalStack.server.address,
    baseUrl: emu.baseUrl,
    apiKey: emu.apiKey,
    taskQueue,
    bundlePath: bundle.codePath,
    maxConcurrentActivities: Math.max(n, 100),
    probeFile,
  });
  try {
    // Warm the worker up (workflow sandbox, connections), as a long-running worker would be.
    const warm = await temporalStack.client.workflow.start(agentRun, {
      taskQueue,
      workflowId: `${taskQueue}-warmup`,
      args: [{ request: { machine_id: 'm-1', task: 'warm up [steps=2] [pace=10]' } }],
    });
    await withTimeout('the warm-up run', warm.result(), 120_000);
    worker.send('reset'); // the worker's event-loop delay histogram starts now
    const w0 = procStats(worker.pid);
    const s0 = procStats(temporalStack.server.pid);
    const e0 = procStats(emu.pid);
    const t0 = Date.now();
    const startedAt: number[] = new Array(n);
    const handles: WorkflowHandle<typeof agentRun>[] = await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      50,
      (i) => {
        startedAt[i] = Date.now();
        return temporalStack.client.workflow.start(agentRun, {
          taskQueue,
          workflowId: `${taskQueue}-${i + 1}`,
          args: [
            {
              request: {
                machine_id: `m-${i + 1}`,
                task: `concurrency run ${i + 1} [steps=${STEPS}] [pace=${PACE_MS}]`,
              },
            },
          ],
        });
      },
    );
    const startS = (Date.now() - t0) / 1000;
    const results = (await withTimeout(
      `${n} runs to finish`,
      Promise.all(handles.map((h) => h.result())),
      (IDEAL_S * 6 + 180) * 1000,
    )) as AgentRunResult[];
    const w1 = procStats(worker.pid);
    const s1 = procStats(temporalStack.server.pid);
    const e1 = procStats(emu.pid);
    const closes = await mapLimit(handles, 20, async (h) => (await h.describe()).closeTime?.getTime() ?? NaN);
    const wallS = (Math.max(...closes) - t0) / 1000;
    const failed = results.filter((r) => r.status !== 'succeeded' || r.steps !== STEPS).length;

    await worker.stop();
    const probe = JSON.parse(await readFile(probeFile, 'utf8')) as {
      ids: string[];
      times: number[];
      eventLoopDelayMs: { p50: number; p99: number; max: number };
    };
    // The emulator's truth: when each event was emitted, and each run's own duration.
    const probeAt = new Map<string, number>();
    probe.ids.forEach((id, i) => probeAt.set(id, probe.times[i] as number));
    const runSeconds: number[] = [];
    const createLags: number[] = [];
    const openLags: number[] = [];
    const closeLags: number[] = [];
    const lags: number[] = [];
    await mapLimit(results, 10, async (r, i) => {
      const events: RunEvent[] = await admin.runEvents(r.runId);
      const created = Date.parse(events[0]!.timestamp);
      const running = events.find((e) => e.type === 'running')?.timestamp;
      const ended = Date.parse(events.at(-1)!.timestamp);
      if (running) runSeconds.push((ended - Date.parse(running)) / 1000);
      createLags.push(created - (startedAt[i] as number));
      closeLags.push((closes[i] as number) - ended);
      // The stream opens after createRun returns: events emitted before are replayed at once. The
      // first event handled marks the stream open; live lag is measured on step events emitted after.
      const handled = events.map((e) => probeAt.get(e.id)).filter((t): t is number => t !== undefined);
      if (handled.length === 0) return;
      const openedAt = Math.min(...handled);
      openLags.push(openedAt - created);
      for (const e of events) {
        const at = probeAt.get(e.id);
        const emitted = Date.parse(e.timestamp);
        if (e.type === 'step' && at !== undefined && emitted > openedAt) lags.push(at - emitted);
      }
    });
    return {
      n,
      wallS,
      ratio: wallS / IDEAL_S,
      startS,
      runMedianS: median(runSeconds),
      runMaxS: Math.max(...runSeconds),
      peakRssMb: w1.peakRssMb,
      workerCpuS: w1.cpuSeconds - w0.cpuSeconds,
      serverCpuS: s1.cpuSeconds - s0.cpuSeconds,
      emulatorCpuS: e1.cpuSeconds - e0.cpuSeconds,
      lagP50: percentile(lags, 50),
      lagP95: percentile(lags, 95),
      lagP99: percentile(lags, 99),
      lagMax: Math.max(...lags),
      lagSamples: lags.length,
      createP50: median(createLags),
      createMax: Math.max(...createLags),
      openP50: median(openLags),
      openMax: Math.max(...openLags),
      closeP50: median(closeLags),
      closeMax: Math.max(...closeLags),
      loop: probe.eventLoopDelayMs,
      failed,
    };
  } finally {
    await worker.stop();
    await emu.stop();
    await rm(probeFile, { force: true });
  }
}

try {
  for (const n of NS) {
    const row = await measure(n);
    rows.push(row);
    console.error(
      `concurrency: N=${n}: wall ${round(row.wallS, 1)} s (${round(row.ratio, 2)}x ideal), peak RSS ${row.peakRssMb} MB, ` +
        `worker CPU ${round(row.workerCpuS, 1)} s, lag p95 ${row.lagP95} ms`,
    );
  }
} finally {
  await temporalStack.stop();
  await bundle.cleanup();
}

bench.table({
  title: `N concurrent agentRun, ${STEPS} steps x ${PACE_MS} ms (ideal ${IDEAL_S} s), one worker process`,
  columns: [
    'N',
    'wall s',
    'x ideal',
    'start N s',
    'run median s',
    'run max s',
    'worker peak RSS MB',
    'worker CPU s',
    'server CPU s',
    'emulator CPU s',
    'failed',
  ],
  rows: rows.map((r) => [
    r.n,
    round(r.wallS, 1),
    round(r.ratio, 2),
    round(r.startS, 1),
    round(r.runMedianS, 1),
    round(r.runMaxS, 1),
    r.peakRssMb,
    round(r.workerCpuS, 1),
    round(r.serverCpuS, 1),
    round(r.emulatorCpuS, 1),
    r.failed,
  ]),
});
bench.table({
  title:
    'Lags, ms: workflow start request -> run created (POST); run created -> stream open (first event handled); live step ' +
    'event (emulator timestamp) -> worker heartbeat call carrying it; terminal event -> workflow closed',
  columns: [
    'N',
    'start->created p50',
    'max',
    'created->stream p50',
    'max',
    'live lag p50',
    'p95',
    'p99',
    'max',
    'live steps',
    'terminal->closed p50',
    'max',
    'worker loop delay p99',
    'max',
  ],
  rows: rows.map((r) => [
    r.n,
    r.createP50,
    r.createMax,
    r.openP50,
    r.openMax,
    r.lagP50,
    r.lagP95,
    r.lagP99,
    r.lagMax,
    r.lagSamples,
    r.closeP50,
    r.closeMax,
    r.loop.p99,
    r.loop.max,
  ]),
});

const knee = rows.find((r) => r.ratio > 1.5);
bench.note(
  knee
    ? `Knee: at N = ${knee.n} the wall time passes 1.5x the ideal (${round(knee.ratio, 2)}x).`
    : `No knee up to N = ${rows.at(-1)?.n}: every size within 1.5x the ideal.`,
);
bench.note(
  'run median/max: the emulator\'s own duration of each run (first "running" to the terminal event); when it ' +
    'exceeds the ideal, the emulator (same 2 cores) could not keep its pace. CPU seconds: utime+stime from /proc over ' +
    'the measured window; peak RSS: VmHWM of the worker process.',
);
const atGoal = rows.find((r) => r.n === GOAL_N);
bench.goal({
  goal: `${GOAL_N} runs within 1.5x the ideal and 600 MB`,
  met: atGoal ? atGoal.ratio <= 1.5 && atGoal.peakRssMb <= 600 && atGoal.failed === 0 : null,
  measured: atGoal
    ? `${round(atGoal.ratio, 2)}x ideal, ${atGoal.peakRssMb} MB`
    : `not run at ${GOAL_N} (use --full); largest N = ${rows.at(-1)?.n}: ${round(rows.at(-1)?.ratio ?? NaN, 2)}x ideal, ${rows.at(-1)?.peakRssMb} MB`,
});
bench.result.raw = rows;
if (rows.some((r) => r.failed > 0))
  bench.note('Some runs did not succeed with all their steps: see "failed".');
await bench.finish();
