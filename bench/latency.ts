// Latency of the orchestration around one run, runs one at a time on an idle worker (child process):
//   start: the client's workflow start request -> the emulator creating the run (POST /v1/runs arrives);
//   close: the run's terminal event (emulator timestamp) -> the workflow closed (server closeTime).
// With a breakdown from the workflow's history (server event times) to show where the time goes.
//   node --import tsx bench/latency.ts [--full] [--runs 30]
// Clocks: the emulator, the Temporal server and this process run on the same machine (same clock);
// emulator timestamps have millisecond resolution.
import type { RunEvent } from '../api/types';
import { EmulatorAdmin } from '../emulator/admin-client';
import { agentRun, type AgentRunResult } from '../workflows/agent-run';
import {
  bundleWorkflows,
  median,
  numberFlag,
  parseFlags,
  percentile,
  round,
  spawnBenchWorker,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['runs', 'warmup']);
const RUNS = numberFlag(values.runs, full ? 100 : 30);
const WARMUP = numberFlag(values.warmup, 3);
const STEPS = 3;
const PACE_MS = 20;

const bench = startResult('latency', 'Workflow start to POST, terminal event to workflow closed', full, {
  runs: RUNS,
  warmup_runs: WARMUP,
  steps_per_run: STEPS,
  pace_ms: PACE_MS,
});

type Time = { seconds?: unknown; nanos?: number | null } | null | undefined;
const toMs = (t: Time) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface Sample {
  startToPost: number;
  closeLag: number;
  // Breakdown (server history times unless said otherwise).
  requestToStarted: number; // client request -> WorkflowExecutionStarted
  startedToFirstWftStarted: number; // the first workflow task reaches the worker
  wftStartedToCreatePost: number; // the workflow runs createRun (a local activity): POST at the emulator
  terminalToStreamDone: number; // terminal event -> streamRun ActivityTaskCompleted
  streamDoneToClosed: number;
}

const temporalStack = await startTemporal();
const emu = await startEmulatorProcess({ machines: 1, agent: { paceMs: PACE_MS } });
const admin = new EmulatorAdmin(emu.url, emu.adminKey);
const bundle = await bundleWorkflows('main');
const taskQueue = uniqueId('latency');
const worker = await spawnBenchWorker({
  temporalAddress: temporalStack.server.address,
  baseUrl: emu.baseUrl,
  apiKey: emu.apiKey,
  taskQueue,
  bundlePath: bundle.codePath,
  maxConcurrentActivities: 100,
});

const samples: Sample[] = [];
try {
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const requestedAt = Date.now();
    const handle = await temporalStack.client.workflow.start(agentRun, {
      taskQueue,
      workflowId: `${taskQueue}-${i + 1}`,
      args: [{ request: { machine_id: 'm-1', task: `latency ${i + 1} [steps=${STEPS}]` } }],
    });
    const result = (await withTimeout('a run to finish', handle.result(), 120_000)) as AgentRunResult;
    if (process.env.BENCH_DEBUG)
      console.error(`latency: run ${i + 1} result after ${Date.now() - requestedAt} ms`);
    if (result.status !== 'succeeded') throw new Error(`run ${result.runId} ended ${result.status}`);
    if (i < WARMUP) continue;
    const [description, history, events] = await Promise.all([
      handle.describe(),
      handle.fetchHistory(),
      admin.runEvents(result.runId) as Promise<RunEvent[]>,
    ]);
    const created = Date.parse(events[0]!.timestamp);
    const terminal = Date.parse(events.at(-1)!.timestamp);
    const closed = description.closeTime!.getTime();
    const h = history.events ?? [];
    const started = toMs(h[0]?.eventTime);
    const firstWftStarted = toMs(h.find((e) => e.workflowTaskStartedEventAttributes)?.eventTime);
    const streamDone = [...h].reverse().find((e) => e.activityTaskCompletedEventAttributes);
    samples.push({
      startToPost: created - requestedAt,
      closeLag: closed - terminal,
      requestToStarted: started - requestedAt,
      startedToFirstWftStarted: firstWftStarted - started,
      wftStartedToCreatePost: created - firstWftStarted,
      terminalToStreamDone: toMs(streamDone?.eventTime) - terminal,
      streamDoneToClosed: closed - toMs(streamDone?.eventTime),
    });
  }
} finally {
  await worker.stop();
  await temporalStack.stop();
  await bundle.cleanup();
  await emu.stop();
}

const stat = (key: keyof Sample) => {
  const xs = samples.map((s) => s[key]);
  return [round(median(xs), 1), round(percentile(xs, 95), 1), round(Math.max(...xs), 1)];
};
const start = stat('startToPost');
const close = stat('closeLag');
bench.table({
  title: `${RUNS} runs one at a time (after ${WARMUP} warm-up runs), ms`,
  columns: ['measure', 'median', 'p95', 'max'],
  rows: [
    ['workflow start request -> POST /v1/runs arrives', ...start],
    ['  request -> WorkflowExecutionStarted', ...stat('requestToStarted')],
    ['  started -> first workflow task started', ...stat('startedToFirstWftStarted')],
    ['  workflow task started -> POST (createRun, local)', ...stat('wftStartedToCreatePost')],
    ['terminal event -> workflow closed', ...close],
    ['  terminal event -> streamRun completed', ...stat('terminalToStreamDone')],
    ['  streamRun completed -> workflow closed', ...stat('streamDoneToClosed')],
  ],
});
bench.goal({
  goal: 'start -> POST median within 50 ms',
  met: (start[0] as number) <= 50,
  measured: `median ${start[0]} ms, p95 ${start[1]} ms`,
});
bench.goal({
  goal: 'terminal event -> closed median within 100 ms',
  met: (close[0] as number) <= 100,
  measured: `median ${close[0]} ms, p95 ${close[1]} ms`,
});
bench.result.raw = samples;
await bench.finish();
