// Crash recovery: N live streams on one worker (child process), SIGKILL it, start a new one; time
// until every stream is open again, and lost or duplicated events and runs (must all be 0).
//   node --import tsx bench/resume.ts [--full] [--n 50] [--steps 400] [--heartbeat-timeout-s 5]
// The runs use streamHeartbeatTimeout = 5 s (an agentRun input): the server notices a dead worker
// only when a heartbeat is overdue, so that timeout (plus the 1 s retry interval) bounds the resume
// time; with the default 30 s it would be about 30 s longer.
// Truth: the emulator's admin API (every event of every run, runs_created, steps_billed).
import type { WorkflowHandle } from '@temporalio/client';
import type { RunEvent } from '../api/types';
import { EmulatorAdmin } from '../emulator/admin-client';
import type { Counters } from '../emulator/counters';
import { agentRun, type AgentRunResult } from '../workflows/agent-run';
import {
  bundleWorkflows,
  mapLimit,
  numberFlag,
  parseFlags,
  round,
  spawnBenchWorker,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  waitFor,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['n', 'steps', 'heartbeat-timeout-s', 'settle-s']);
const N = numberFlag(values.n, full ? 200 : 50);
const STEPS = numberFlag(values.steps, full ? 600 : 400);
const PACE_MS = 100;
const HEARTBEAT_TIMEOUT_S = numberFlag(values['heartbeat-timeout-s'], 5);
// After all streams are open, wait this long before the kill, so that heartbeats carrying event ids
// have reached the server (the SDK sends them at most every 0.8 x heartbeat timeout).
const SETTLE_S = numberFlag(values['settle-s'], HEARTBEAT_TIMEOUT_S + 2);

const bench = startResult('resume', 'SIGKILL the worker with live streams: resume time and losses', full, {
  streams: N,
  steps: STEPS,
  pace_ms: PACE_MS,
  stream_heartbeat_timeout_s: HEARTBEAT_TIMEOUT_S,
  settle_s: SETTLE_S,
});

const temporalStack = await startTemporal();
const emu = await startEmulatorProcess({
  machines: N,
  agent: { paceMs: PACE_MS },
  stream: { maxOpenPerKey: null },
});
const admin = new EmulatorAdmin(emu.url, emu.adminKey);
const bundle = await bundleWorkflows('main');
const taskQueue = uniqueId('resume');
const spawnWorker = () =>
  spawnBenchWorker({
    temporalAddress: temporalStack.server.address,
    baseUrl: emu.baseUrl,
    apiKey: emu.apiKey,
    taskQueue,
    bundlePath: bundle.codePath,
    maxConcurrentActivities: Math.max(N, 100),
  });
let worker = await spawnWorker();

try {
  const handles: WorkflowHandle<typeof agentRun>[] = await mapLimit(
    Array.from({ length: N }, (_, i) => i),
    50,
    (i) =>
      temporalStack.client.workflow.start(agentRun, {
        taskQueue,
        workflowId: `${taskQueue}-${i + 1}`,
        args: [
          {
            request: {
              machine_id: `m-${i + 1}`,
              task: `resume run ${i + 1} [steps=${STEPS}] [pace=${PACE_MS}]`,
            },
            streamHeartbeatTimeout: `${HEARTBEAT_TIMEOUT_S}s`,
          },
        ],
      }),
  );
  const results = Promise.all(handles.map((h) => h.result() as Promise<AgentRunResult>));
  results.catch(() => undefined);
  const openedAt = await waitFor(
    `${N} streams to be open`,
    async () => ((await admin.counters()).open_streams >= N ? Date.now() : undefined),
    120_000,
    100,
  );
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const before = await admin.counters();
  if (before.open_streams < N) throw new Error(`only ${before.open_streams} streams open before the kill`);
  const stepsBefore = before.steps_billed;
  const budgetS = (STEPS * PACE_MS) / 1000 - (Date.now() - openedAt) / 1000;
  console.error(
    `resume: ${N} streams open, ${stepsBefore} steps so far; killing the worker (about ${round(budgetS, 0)} s of steps left)`,
  );

  const killedAt = performance.now();
  await worker.kill();
  const killSeenAt = performance.now();
  const replacement = spawnWorker();
  let readyAt = 0;
  void replacement.then(() => (readyAt = performance.now()));

  // Poll the emulator: new stream connections since the kill, and streams open.
  let firstResumedAt = 0;
  let allResumedAt = 0;
  let closedSeenAt = 0;
  let lastCounters: Counters = before;
  const deadline = performance.now() + 180_000;
  while (performance.now() < deadline) {
    lastCounters = await admin.counters();
    const now = performance.now();
    const reopened = lastCounters.stream_connections - before.stream_connections;
    if (!closedSeenAt && lastCounters.open_streams === 0) closedSeenAt = now;
    if (!firstResumedAt && reopened >= 1) firstResumedAt = now;
    if (reopened >= N && lastCounters.open_streams >= N) {
      allResumedAt = now;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  worker = await replacement;
  if (!allResumedAt) {
    throw new Error(
      `only ${lastCounters.stream_connections - before.stream_connections} of ${N} streams reopened within 180 s`,
    );
  }
  const resumedCounters = lastCounters;

  const finals = (await withTimeout(
    'the runs to finish',
    results,
    (STEPS * PACE_MS + 180_000) as number,
  )) as AgentRunResult[];
  const after = await admin.counters();

  // Compare each run with the emulator's truth.
  let lostEvents = 0;
  let duplicatedEvents = 0;
  let wrongSteps = 0;
  let notSucceeded = 0;
  let streamRetries = 0;
  await mapLimit(finals, 10, async (r) => {
    const truth: RunEvent[] = await admin.runEvents(r.runId);
    const handled = r.delivery.eventsHandled;
    if (handled < truth.length) lostEvents += truth.length - handled;
    if (handled > truth.length) duplicatedEvents += handled - truth.length;
    if (r.steps !== STEPS) wrongSteps++;
    if (r.status !== 'succeeded') notSucceeded++;
    streamRetries += r.delivery.streamRetries;
  });
  const distinctRuns = new Set(finals.map((r) => r.runId)).size;
  const extraRuns = after.runs_created - N;
  const expectedSteps = N * STEPS;

  const seconds = (t: number) => round((t - killedAt) / 1000, 2);
  bench.table({
    title: `${N} live streams (${STEPS} steps x ${PACE_MS} ms each), worker SIGKILLed, a new one started at once; s after the kill`,
    columns: ['measure', 'value'],
    rows: [
      ['emulator sees the streams closed', closedSeenAt ? seconds(closedSeenAt) : '-'],
      ['new worker ready', readyAt ? seconds(readyAt) : '-'],
      ['first stream reopened', seconds(firstResumedAt)],
      ['all streams reopened (time to resume)', seconds(allResumedAt)],
      [
        'reconnects with Last-Event-ID (since the kill)',
        resumedCounters.reconnects_with_last_event_id - before.reconnects_with_last_event_id,
      ],
      ['stream attempts retried (sum of delivery.streamRetries)', streamRetries],
    ],
  });
  bench.table({
    title: 'Exactly once, against the emulator truth',
    columns: ['check', 'value', 'expected'],
    rows: [
      ['runs created', after.runs_created, N],
      ['distinct run ids in the results', distinctRuns, N],
      ['steps billed', after.steps_billed, expectedSteps],
      ['runs not succeeded', notSucceeded, 0],
      ['runs with a wrong step count', wrongSteps, 0],
      ['events lost (truth - eventsHandled)', lostEvents, 0],
      ['events duplicated (eventsHandled - truth)', duplicatedEvents, 0],
    ],
  });
  bench.goal({
    goal: 'no lost or duplicated events or runs',
    met:
      lostEvents === 0 &&
      duplicatedEvents === 0 &&
      extraRuns === 0 &&
      distinctRuns === N &&
      after.steps_billed === expectedSteps &&
      notSucceeded === 0 &&
      wrongSteps === 0,
    measured: `${lostEvents} lost, ${duplicatedEvents} duplicated events; ${after.runs_created} runs for ${N}; ${after.steps_billed} steps billed of ${expectedSteps}`,
  });
  bench.note(
    `The time to resume is set by the stream activity's heartbeat timeout (${HEARTBEAT_TIMEOUT_S} s here, an agentRun input; ` +
      'default 30 s): the server retries the activity only once a heartbeat is overdue, then after the 1 s retry interval.',
  );
  bench.result.raw = { before, resumed: resumedCounters, after, killSeenMs: round(killSeenAt - killedAt, 1) };
} finally {
  await worker.stop();
  await temporalStack.stop();
  await bundle.cleanup();
  await emu.stop();
}
await bench.finish();
