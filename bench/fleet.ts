// A fleet at a real agent's pace: N concurrent runs (each on its own emulator machine, S steps of P ms,
// one run in --pause-every pausing once for a person), followed four ways, one after the other in the
// same benchmark run, each on a fresh Temporal dev server, emulator and worker process:
//   stream    agentRun (default delivery): an activity follows the run's event stream;
//   webhook   agentRun with delivery: 'webhook': the runs API posts each event to our receiver (its own
//             process, bench/fleet-receiver-main.ts), which signals state changes only;
//   polling   what most Temporal users write first: ONE activity creates the run and polls
//             GET /v1/runs/{id} every 2 s while it heartbeats (bench/workflows/fleet-baselines.ts);
//   listener  an external SSE listener process (bench/fleet-listener-main.ts) follows each run's
//             event stream and signals every event into a workflow that waits for the terminal one.
// The baselines run on a plain SDK worker (Worker.create, the SDK's defaults); ours on createWorker.
//   node --import tsx bench/fleet.ts [--full] [--n 1000,2000] [--steps 30] [--pace-ms 2000]
//        [--modes stream,webhook,polling,listener] [--pause-every 10] [--profile <dir>]
//        [--worker-options <json>]   (experiments: more worker options, noted in the results)
// Measured per mode: runs completed (succeeded with every step); wall time from the first start
// request to the last workflow close (server closeTime) against the ideal S x P; the dev server's
// frontend requests (Prometheus service_requests) over that window, per run, without the benchmark's
// own observers (queries, visibility, describe); history events per run (visibility historyLength);
// runs API requests per run (emulator counter, without the benchmark's pause watcher); CPU seconds
// (/proc utime+stime) of the worker, the receiver or listener, the server and the emulator; peak RSS
// (VmHWM) of the worker and of the receiver or listener; and the pause delay: from the emulator's
// awaiting_human timestamp to the first `progress` query of the workflow that says awaiting_human.
// The pause watcher lists paused runs (GET /v1/runs?status=awaiting_human) every 50 ms and then
// queries that workflow every 50 ms, so a delay is measured to within about 50 ms plus a query's
// round trip; then it approves the pause with the `decide` update, as a person would through serve.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type proto from '@temporalio/proto';
import { EmulatorAdmin } from '../emulator/admin-client';
import type { Run } from '../api/types';
import { decideUpdate } from '../workflows/messages';
import { agentRun, type AgentRunInput } from '../workflows/agent-run';
import type { FleetRunInput } from './workflows/fleet-baselines';
import { loadProfile, packageOf, selfTime } from './profile-summary';
import {
  bundleWorkflows,
  devServerMetricsUrl,
  mapLimit,
  numberFlag,
  numberList,
  parseFlags,
  percentile,
  procStats,
  requestsBetween,
  round,
  serviceRequests,
  spawnBenchWorker,
  spawnSideProcess,
  startEmulatorProcess,
  startResult,
  startTemporal,
  uniqueId,
  withTimeout,
  type ProcStats,
  type SideProcess,
} from './lib';

const MODES = ['stream', 'webhook', 'polling', 'listener'] as const;
type Mode = (typeof MODES)[number];
const LABEL: Record<Mode, string> = {
  stream: 'a. ours, stream',
  webhook: 'b. ours, webhook',
  polling: 'c. polling activity',
  listener: 'd. SSE listener + signals',
};

const { full, values } = parseFlags([
  'n',
  'steps',
  'pace-ms',
  'modes',
  'pause-every',
  'profile',
  'worker-options',
]);
/** Experiments only: more options for every worker (JSON), e.g. '{"maxConcurrentWorkflowTaskExecutions":200}'. */
const WORKER_OPTIONS = typeof values['worker-options'] === 'string' ? values['worker-options'] : undefined;
if (WORKER_OPTIONS) JSON.parse(WORKER_OPTIONS);
const NS = numberList(values.n, full ? [5000, 10000] : [1000, 2000]);
const STEPS = numberFlag(values.steps, 30);
const PACE_MS = numberFlag(values['pace-ms'], 2000);
const PAUSE_EVERY = numberFlag(values['pause-every'], 10);
const IDEAL_S = (STEPS * PACE_MS) / 1000;
const PROFILE_DIR = typeof values.profile === 'string' ? values.profile : undefined;
const modes: Mode[] =
  typeof values.modes === 'string'
    ? values.modes.split(',').map((m) => {
        if (!(MODES as readonly string[]).includes(m))
          throw new Error(`unknown mode ${m}; known: ${MODES.join(', ')}`);
        return m as Mode;
      })
    : [...MODES];
/** How long a mode may take, from its first start: twice the ideal, 90 s, and 1 s per 50 runs to start. */
const deadlineSeconds = (n: number) => IDEAL_S * 2 + 90 + n / 50;
/**
 * The SSE listener runs only up to this N unless --modes names it: it floods the server with a signal
 * per event (at 1,000 runs, 2.7x the ideal and 66 requests a run), so at 2,000 it took the whole
 * deadline, 8 of the benchmark's 27 minutes, to say what 1,000 already said.
 */
const LISTENER_MAX_N = typeof values.modes === 'string' ? Infinity : full ? 5000 : 1000;
const GOAL_N = 5000;
const HOLD_N = 10000;
const WEBHOOK_SECRET = 'whsec_bench_fleet';
/** Requests of the benchmark's own observers, not of the way a run is followed. */
const OBSERVER_OPERATIONS = new Set([
  'QueryWorkflow',
  'CountWorkflowExecutions',
  'ListWorkflowExecutions',
  'DescribeWorkflowExecution',
  'GetWorkflowExecutionHistory',
  'DescribeNamespace',
  'GetSystemInfo',
  'GetClusterInfo',
]);

/**
 * The requests of the way runs are followed: without the benchmark's observers, and without what its
 * queries cost the worker (each query reaches it as a query task: one PollWorkflowTaskQueue that
 * returns it, one RespondQueryTaskCompleted).
 */
function observedRequestsOut(requests: Map<string, number>): Map<string, number> {
  const out = new Map([...requests].filter(([op]) => !OBSERVER_OPERATIONS.has(op)));
  const queries = out.get('RespondQueryTaskCompleted') ?? 0;
  out.delete('RespondQueryTaskCompleted');
  const polls = out.get('PollWorkflowTaskQueue');
  if (polls !== undefined) out.set('PollWorkflowTaskQueue', Math.max(0, polls - queries));
  return out;
}

const bench = startResult('fleet', 'A fleet at an agent’s pace, four ways to follow it', full, {
  n: NS,
  steps: STEPS,
  pace_ms: PACE_MS,
  ideal_seconds: IDEAL_S,
  pause_every: PAUSE_EVERY,
  modes,
  ...(WORKER_OPTIONS ? { worker_options: WORKER_OPTIONS } : {}),
});
if (WORKER_OPTIONS) bench.note(`Experiment: every worker ran with ${WORKER_OPTIONS} (not as shipped).`);

const skipped = NS.filter((n) => modes.includes('listener') && n > LISTENER_MAX_N);
if (skipped.length)
  bench.note(
    `Default size: d. (the SSE listener) runs at N = ${LISTENER_MAX_N.toLocaleString('en-US')} only, to keep the benchmark ` +
      'near 20 minutes: at 2,000 it did not finish within its deadline on 2 cores (1,603 of 2,000 runs in 454 s, ' +
      'the server flooded with a signal per event); `--modes stream,webhook,polling,listener` runs it at every N.',
  );

/** Run i (1-based) pauses once, before step K (5..25 of 30, spread so pauses do not all land at once). */
function pauseStep(i: number): number | undefined {
  if (i % PAUSE_EVERY !== 0) return undefined;
  const lo = Math.min(5, STEPS);
  const hi = Math.max(lo, STEPS - 5);
  return lo + ((i * 7) % (hi - lo + 1));
}

interface Row {
  n: number;
  mode: Mode;
  completed: number;
  wallS: number;
  ratio: number;
  startS: number;
  timedOut: boolean;
  serverRequestsPerRun: number;
  requestsByOperation: Record<string, number>;
  historyPerRun: number;
  apiRequestsPerRun: number;
  worker: { cpuS: number; peakRssMb: number };
  side?: { cpuS: number; peakRssMb: number; counts?: unknown };
  serverCpuS: number;
  emulatorCpuS: number;
  pauses: { expected: number; seen: number; decided: number; p50: number; p99: number; max: number };
  webhooks?: { attempts: number; deliveries: number; failures: number };
  profile?: string;
  /** Where the time goes (ms unless named otherwise): see the third table. */
  time: {
    createP50: number;
    createP99: number;
    runP50S: number;
    runMaxS: number;
    closeP50: number;
    closeP99: number;
    toServerP50: number;
    toServerP99: number;
    inWorkflowP50: number;
    inWorkflowP99: number;
    toQueryP50: number;
    toQueryP99: number;
    sampled: number;
    /** A pause's way into the workflow, step by step (ms after the pause, p50 and p99). */
    timeline: Array<{ event: string; p50: number; p99: number }>;
  };
  loadAvg: [number, number];
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const eventMs = (e: HistoryEvent | undefined) =>
  e ? Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6 : NaN;

/**
 * A pause in a workflow's history: when what carries it reached the server (the stream or poll
 * activity's completion, or the signal), and when the workflow had taken it in (our modes: the
 * CoastyStatus upsert; the baselines: the workflow task that handled it).
 */
function pauseInHistory(
  events: HistoryEvent[],
  mode: Mode,
  since: number,
): { arrived: number; known: number; timeline: Array<[string, number]> } {
  const after = events.filter((e) => eventMs(e) >= since - 2);
  const arrivedAt = after.findIndex((e) =>
    mode === 'stream' || mode === 'polling'
      ? e.activityTaskCompletedEventAttributes
      : e.workflowExecutionSignaledEventAttributes,
  );
  const rest = arrivedAt >= 0 ? after.slice(arrivedAt + 1) : [];
  const known = rest.find((e) =>
    mode === 'stream' || mode === 'webhook'
      ? e.upsertWorkflowSearchAttributesEventAttributes
      : e.workflowTaskCompletedEventAttributes,
  );
  // Each event from the arrival to the workflow knowing, by name and occurrence, ms after the pause.
  const timeline: Array<[string, number]> = [];
  const seen = new Map<string, number>();
  for (const e of arrivedAt >= 0 ? after.slice(arrivedAt, after.indexOf(known!) + 1) : []) {
    const name = eventName(e);
    const k = (seen.get(name) ?? 0) + 1;
    seen.set(name, k);
    timeline.push([k > 1 ? `${name} ${k}` : name, round(eventMs(e) - since)]);
  }
  return { arrived: eventMs(after[arrivedAt]), known: eventMs(known), timeline };
}

function eventName(e: HistoryEvent): string {
  if (e.workflowTaskScheduledEventAttributes) return 'WFT scheduled';
  if (e.workflowTaskStartedEventAttributes) return 'WFT started';
  if (e.workflowTaskCompletedEventAttributes) return 'WFT completed';
  if (e.activityTaskScheduledEventAttributes) return 'activity scheduled';
  if (e.activityTaskStartedEventAttributes) return 'activity started';
  if (e.activityTaskCompletedEventAttributes) return 'activity completed';
  if (e.workflowExecutionSignaledEventAttributes) return 'signal';
  if (e.upsertWorkflowSearchAttributesEventAttributes) return 'status upsert';
  if (e.timerStartedEventAttributes) return 'timer started';
  if (e.timerCanceledEventAttributes) return 'timer canceled';
  return 'other';
}

/** The median and p99 time after the pause of each step on its way into the workflow, in order. */
function timelineOf(
  timelines: Array<Array<[string, number]>>,
): Array<{ event: string; p50: number; p99: number }> {
  const byName = new Map<string, number[]>();
  for (const t of timelines) for (const [name, ms] of t) byName.set(name, [...(byName.get(name) ?? []), ms]);
  return [...byName]
    .filter(([, v]) => v.length >= timelines.length / 2)
    .map(([event, v]) => ({ event, p50: p(v, 50), p99: p(v, 99) }))
    .sort((a, b) => a.p50 - b.p50);
}

const p = (values: number[], q: number) => round(percentile(values.filter(Number.isFinite), q));

/** Watches the emulator for paused runs, measures when each workflow shows the pause, approves it. */
class PauseWatcher {
  readonly delays: number[] = [];
  /** Each pause measured: its workflow, the emulator's timestamp, when the query showed it. */
  readonly pauses: Array<{ workflowId: string; since: number; knownAt: number }> = [];
  listRequests = 0;
  decided = 0;
  seen = 0;
  #stopped = false;
  readonly #known = new Set<string>();
  readonly #follows: Promise<void>[] = [];
  #loop: Promise<void> | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly client: Client,
    private readonly workflowIdOf: (index: number) => string,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await Promise.all(this.#follows);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        let after: string | undefined;
        for (let page = 0; page < 200; page++) {
          const q = new URLSearchParams({
            status: 'awaiting_human',
            limit: '100',
            ...(after ? { after } : {}),
          });
          this.listRequests += 1;
          const res = await fetch(`${this.baseUrl}/runs?${q}`, {
            headers: { authorization: `Bearer ${this.apiKey}` },
          });
          const list = (await res.json()) as { data: Run[]; has_more: boolean };
          for (const run of list.data) this.#notice(run);
          if (!list.has_more || list.data.length === 0) break;
          after = list.data.at(-1)!.id;
        }
      } catch {
        // The emulator busy or stopping: the next round tries again.
      }
      await sleep(50);
    }
  }

  #notice(run: Run): void {
    if (this.#known.has(run.id) || !run.awaiting_human) return;
    const index = Number(/fleet run (\d+)\b/.exec(run.task)?.[1]);
    if (!Number.isInteger(index)) return;
    this.#known.add(run.id);
    this.seen += 1;
    this.#follows.push(this.#follow(this.workflowIdOf(index), Date.parse(run.awaiting_human.since)));
  }

  async #follow(workflowId: string, since: number): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && !this.#stopped) {
      try {
        const progress = await handle.query<{ status: string }>('progress');
        if (progress.status === 'awaiting_human') {
          const knownAt = Date.now();
          this.delays.push(knownAt - since);
          this.pauses.push({ workflowId, since, knownAt });
          break;
        }
      } catch {
        // A query that timed out under load: ask again.
      }
      await sleep(50);
    }
    for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
      try {
        await handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'bench' }] });
        this.decided += 1;
        return;
      } catch {
        await sleep(100);
      }
    }
  }
}

const bundle = await bundleWorkflows('bench');
const rows: Row[] = [];

function workflowStart(mode: Mode, machine: string, task: string) {
  const request = { machine_id: machine, task };
  if (mode === 'stream') return { type: agentRun, args: [{ request } satisfies AgentRunInput] };
  if (mode === 'webhook')
    return { type: agentRun, args: [{ request, delivery: 'webhook' } satisfies AgentRunInput] };
  return {
    type: mode === 'polling' ? 'pollingRun' : 'listenedRun',
    args: [{ request } satisfies FleetRunInput],
  };
}

function statsBetween(a: ProcStats, b: ProcStats) {
  return { cpuS: round(b.cpuSeconds - a.cpuSeconds, 1), peakRssMb: round(b.peakRssMb) };
}

async function measure(n: number, mode: Mode): Promise<Row> {
  const began = Date.now();
  const elapsed = () => `${round((Date.now() - began) / 1000)} s`;
  const temporal = await startTemporal();
  const metricsUrl = devServerMetricsUrl(temporal.server.pid);
  const emu = await startEmulatorProcess({
    machines: n + 1,
    agent: { paceMs: PACE_MS },
    stream: { maxOpenPerKey: null },
    webhooks: { secret: WEBHOOK_SECRET },
  });
  const admin = new EmulatorAdmin(emu.url, emu.adminKey);
  const taskQueue = uniqueId(`fleet-${mode}-${n}`);
  let side: SideProcess | undefined;
  let worker: Awaited<ReturnType<typeof spawnBenchWorker>> | undefined;
  // --profile: V8 CPU profiles of the worker, one per thread (the main thread, the workflow thread),
  // over its whole life (start, warm-up and the measured window), written when it exits.
  const profileDir =
    PROFILE_DIR !== undefined && (mode === 'stream' || mode === 'webhook')
      ? join(PROFILE_DIR, `fleet-${mode}-${n}`)
      : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const sideEnv = { TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: 'default' };
  try {
    if (mode === 'webhook') {
      side = await spawnSideProcess({
        script: 'bench/fleet-receiver-main.ts',
        env: { ...sideEnv, COASTY_WEBHOOK_SECRET: WEBHOOK_SECRET },
        readyPattern: /^receiver ready (\S+)/,
      });
    }
    if (mode === 'listener') {
      side = await spawnSideProcess({
        script: 'bench/fleet-listener-main.ts',
        env: { ...sideEnv, COASTY_BASE_URL: emu.baseUrl, COASTY_API_KEY: emu.apiKey },
        readyPattern: /^listener ready (\S+)/,
      });
    }
    worker = await spawnBenchWorker({
      temporalAddress: temporal.server.address,
      baseUrl: emu.baseUrl,
      apiKey: emu.apiKey,
      taskQueue,
      bundlePath: bundle.codePath,
      maxConcurrentActivities: n + 10,
      plain: mode === 'polling' || mode === 'listener',
      nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : undefined,
      env: {
        ...(WORKER_OPTIONS ? { BENCH_WORKER_OPTIONS: WORKER_OPTIONS } : {}),
        ...(mode === 'webhook'
          ? { COASTY_WEBHOOK_URL: side!.ready, COASTY_WEBHOOK_SECRET: WEBHOOK_SECRET }
          : mode === 'listener'
            ? { FLEET_LISTENER_URL: side!.ready }
            : {}),
      },
    });
    const { client } = temporal;
    const workflowIdOf = (i: number) => `${taskQueue}-${i}`;

    // A warm worker (sandbox, connections, the receiver or listener), as a long-running one would be.
    const warm = workflowStart(mode, `m-${n + 1}`, 'fleet warm-up [steps=2] [pace=10]');
    await withTimeout(
      'the warm-up run',
      client.workflow.execute(warm.type as typeof agentRun, {
        taskQueue,
        workflowId: `${taskQueue}-warmup`,
        args: warm.args as [AgentRunInput],
      }),
      120_000,
    );
    console.error(`fleet: N=${n} ${mode}: servers, worker and warm-up ready (${elapsed()})`);
    const watcher = new PauseWatcher(emu.baseUrl, emu.apiKey, client, workflowIdOf);
    const before = {
      worker: procStats(worker.pid),
      side: side ? procStats(side.pid) : undefined,
      server: procStats(temporal.server.pid),
      emulator: procStats(emu.pid),
      requests: await serviceRequests(metricsUrl),
      counters: await admin.counters(),
    };
    watcher.start();
    const load0 = loadAverage();
    const startedAt: number[] = new Array(n + 1);
    const t0 = Date.now();
    await mapLimit(
      Array.from({ length: n }, (_, k) => k + 1),
      50,
      async (i) => {
        const k = pauseStep(i);
        const task = `fleet run ${i} [steps=${STEPS}] [pace=${PACE_MS}]${k ? ` [human@${k}]` : ''}`;
        const start = workflowStart(mode, `m-${i}`, task);
        startedAt[i] = Date.now();
        await client.workflow.start(start.type as typeof agentRun, {
          taskQueue,
          workflowId: workflowIdOf(i),
          args: start.args as [AgentRunInput],
        });
      },
    );
    const startS = (Date.now() - t0) / 1000;
    console.error(`fleet: N=${n} ${mode}: ${n} started in ${round(startS, 1)} s`);

    // Done when every run's workflow closed (visibility), or at the deadline.
    const deadline = t0 + deadlineSeconds(n) * 1000;
    let timedOut = false;
    for (let lastLog = Date.now(); ;) {
      const [running, total] = await Promise.all([
        client.workflow.count(`TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`),
        client.workflow.count(`TaskQueue="${taskQueue}"`),
      ]);
      if (running.count === 0 && total.count >= n + 1) break;
      if (Date.now() > deadline) {
        timedOut = true;
        console.error(`fleet: N=${n} ${mode}: deadline reached with ${running.count} runs still open`);
        break;
      }
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        console.error(
          `fleet: N=${n} ${mode}: ${running.count} open at ${round((Date.now() - t0) / 1000)} s, pauses seen ${watcher.seen}, decided ${watcher.decided}`,
        );
      }
      await sleep(1000);
    }
    const after = {
      worker: procStats(worker.pid),
      side: side ? procStats(side.pid) : undefined,
      server: procStats(temporal.server.pid),
      emulator: procStats(emu.pid),
      requests: await serviceRequests(metricsUrl),
      counters: await admin.counters(),
    };
    const load1 = loadAverage();
    await watcher.stop();

    // Outside the measured window: what each workflow ended with, and its history length.
    const closed = new Map<string, { closeMs: number; history: number; completed: boolean }>();
    for await (const wf of client.workflow.list({ query: `TaskQueue="${taskQueue}"` })) {
      if (wf.closeTime)
        closed.set(wf.workflowId, {
          closeMs: wf.closeTime.getTime(),
          history: wf.historyLength,
          completed: wf.status.name === 'COMPLETED',
        });
    }
    // The emulator's truth of each run (created, started, finished, steps), read page by page; a
    // run created twice for one workflow would show as two runs of the same task.
    const runs = new Map<number, Run>();
    const created = new Map<number, number>();
    for (let after: string | undefined, page = 0; page < Math.ceil(n / 100) + 5; page++) {
      const q = new URLSearchParams({ limit: '100', ...(after ? { after } : {}) });
      const res = await fetch(`${emu.baseUrl}/runs?${q}`, {
        headers: { authorization: `Bearer ${emu.apiKey}` },
      });
      const list = (await res.json()) as { data: Run[]; has_more: boolean };
      for (const run of list.data) {
        const i = Number(/fleet run (\d+)\b/.exec(run.task)?.[1]);
        if (!Number.isInteger(i)) continue;
        runs.set(i, run);
        created.set(i, (created.get(i) ?? 0) + 1);
      }
      if (!list.has_more || list.data.length === 0) break;
      after = list.data.at(-1)!.id;
    }
    const ids = Array.from({ length: n }, (_, k) => workflowIdOf(k + 1));
    // Completed: the workflow closed completed, and its one run succeeded with every step.
    const completed = ids.filter((id, k) => {
      const run = runs.get(k + 1);
      return (
        closed.get(id)?.completed === true &&
        created.get(k + 1) === 1 &&
        run?.status === 'succeeded' &&
        run.steps === STEPS
      );
    });
    // And what the workflows returned agrees, on a sample.
    const disagreements = (
      await mapLimit(completed.slice(0, 20), 10, async (id) => {
        const r = (await client.workflow.getHandle(id).result()) as { status: string; steps: number };
        return r.status !== 'succeeded' || r.steps !== STEPS;
      })
    ).filter(Boolean).length;
    if (disagreements > 0)
      throw new Error(`${disagreements} workflow results disagree with the emulator's runs`);
    const closes = ids.map((id) => closed.get(id)?.closeMs).filter((t): t is number => t !== undefined);
    const wallS = closes.length ? (Math.max(...closes) - t0) / 1000 : NaN;
    const histories = ids.map((id) => closed.get(id)?.history).filter((h): h is number => h !== undefined);
    const requests = observedRequestsOut(requestsBetween(before.requests, after.requests));
    const counted = [...requests];
    const serverRequests = counted.reduce((sum, [, v]) => sum + v, 0);
    const apiRequests = after.counters.requests - before.counters.requests - watcher.listRequests;
    const expected = Array.from({ length: n }, (_, k) => pauseStep(k + 1)).filter(
      (k) => k !== undefined,
    ).length;
    const createLags: number[] = [];
    const runSeconds: number[] = [];
    const closeLags: number[] = [];
    for (let i = 1; i <= n; i++) {
      const run = runs.get(i);
      if (!run) continue;
      createLags.push(Date.parse(run.created_at) - (startedAt[i] as number));
      if (run.started_at && run.finished_at && pauseStep(i) === undefined)
        runSeconds.push((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000);
      const close = closed.get(workflowIdOf(i))?.closeMs;
      if (run.finished_at && close !== undefined) closeLags.push(close - Date.parse(run.finished_at));
    }
    // Every pause, in history: reaching the server, taken in by the workflow, seen by a query (a sample
    // of the first ones would miss the later pauses, which meet the wave of runs ending).
    const split = await mapLimit(watcher.pauses, 10, async ({ workflowId, since, knownAt }) => {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const { arrived, known, timeline } = pauseInHistory(history.events ?? [], mode, since);
      return { toServer: arrived - since, inWorkflow: known - arrived, toQuery: knownAt - known, timeline };
    });
    const splitOf = (part: 'toServer' | 'inWorkflow' | 'toQuery') => split.map((x) => x[part]);
    console.error(`fleet: N=${n} ${mode}: measured and collected (${elapsed()})`);
    const sideCounts = side
      ? await side.stop().then(() => {
          const line = side!.output.find((l) => l.startsWith('counts '));
          return line ? (JSON.parse(line.slice(7)) as unknown) : undefined;
        })
      : undefined;
    return {
      n,
      mode,
      completed: completed.length,
      wallS,
      ratio: wallS / IDEAL_S,
      startS,
      timedOut,
      serverRequestsPerRun: serverRequests / n,
      requestsByOperation: Object.fromEntries(counted.map(([op, v]) => [op, round(v / n, 2)])),
      historyPerRun: histories.length ? histories.reduce((a, b) => a + b, 0) / histories.length : NaN,
      apiRequestsPerRun: apiRequests / n,
      worker: statsBetween(before.worker, after.worker),
      side:
        side && before.side && after.side
          ? { ...statsBetween(before.side, after.side), counts: sideCounts }
          : undefined,
      serverCpuS: round(after.server.cpuSeconds - before.server.cpuSeconds, 1),
      emulatorCpuS: round(after.emulator.cpuSeconds - before.emulator.cpuSeconds, 1),
      pauses: {
        expected,
        seen: watcher.delays.length,
        decided: watcher.decided,
        p50: percentile(watcher.delays, 50),
        p99: percentile(watcher.delays, 99),
        max: watcher.delays.length ? Math.max(...watcher.delays) : NaN,
      },
      webhooks:
        mode === 'webhook'
          ? {
              attempts: after.counters.webhook_attempts - before.counters.webhook_attempts,
              deliveries: after.counters.webhook_deliveries - before.counters.webhook_deliveries,
              failures: after.counters.webhook_failures - before.counters.webhook_failures,
            }
          : undefined,
      profile: profileDir,
      time: {
        createP50: p(createLags, 50),
        createP99: p(createLags, 99),
        runP50S: round(percentile(runSeconds, 50), 1),
        runMaxS: round(runSeconds.length ? Math.max(...runSeconds) : NaN, 1),
        closeP50: p(closeLags, 50),
        closeP99: p(closeLags, 99),
        toServerP50: p(splitOf('toServer'), 50),
        toServerP99: p(splitOf('toServer'), 99),
        inWorkflowP50: p(splitOf('inWorkflow'), 50),
        inWorkflowP99: p(splitOf('inWorkflow'), 99),
        toQueryP50: p(splitOf('toQuery'), 50),
        toQueryP99: p(splitOf('toQuery'), 99),
        sampled: split.length,
        timeline: timelineOf(split.map((x) => x.timeline)),
      },
      loadAvg: [load0, load1],
    };
  } finally {
    await worker?.stop();
    await side?.stop();
    await emu.stop();
    await temporal.stop();
  }
}

try {
  for (const n of NS) {
    for (const mode of modes) {
      if (mode === 'listener' && n > LISTENER_MAX_N) continue;
      const row = await measure(n, mode);
      rows.push(row);
      console.error(
        `fleet: N=${n} ${mode}: ${row.completed}/${n} completed, wall ${round(row.wallS, 1)} s (${round(row.ratio, 2)}x ideal), ` +
          `${round(row.serverRequestsPerRun, 1)} server requests/run, worker ${row.worker.cpuS} s CPU ${row.worker.peakRssMb} MB, ` +
          `pause p99 ${row.pauses.p99} ms`,
      );
    }
  }
} finally {
  await bundle.cleanup();
}

const r1 = (x: number) => round(x, 1);
for (const n of NS) {
  const at = rows.filter((r) => r.n === n);
  bench.table({
    title: `N = ${n.toLocaleString('en-US')} concurrent runs, ${STEPS} steps x ${PACE_MS} ms (ideal ${IDEAL_S} s), one run in ${PAUSE_EVERY} paused once`,
    columns: [
      'mode',
      'completed',
      'wall s',
      'x ideal',
      'start N s',
      'server req/run',
      'history events/run',
      'runs API req/run',
      'worker CPU s',
      'worker peak RSS MB',
      'receiver/listener CPU s',
      'its peak RSS MB',
      'server CPU s',
      'emulator CPU s',
      'pause delay p50 ms',
      'p99',
      'max',
      'pauses measured',
    ],
    rows: at.map((r) => [
      LABEL[r.mode],
      `${r.completed}/${r.n}${r.timedOut ? ' (deadline)' : ''}`,
      r1(r.wallS),
      round(r.ratio, 2),
      r1(r.startS),
      r1(r.serverRequestsPerRun),
      r1(r.historyPerRun),
      r1(r.apiRequestsPerRun),
      r.worker.cpuS,
      r.worker.peakRssMb,
      r.side?.cpuS ?? null,
      r.side?.peakRssMb ?? null,
      r.serverCpuS,
      r.emulatorCpuS,
      r.pauses.p50,
      r.pauses.p99,
      r.pauses.max,
      `${r.pauses.seen}/${r.pauses.expected}`,
    ]),
  });
  const ops = new Map<string, number>();
  for (const r of at)
    for (const [op, v] of Object.entries(r.requestsByOperation)) ops.set(op, Math.max(ops.get(op) ?? 0, v));
  const shown = [...ops]
    .filter(([, v]) => v >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([op]) => op);
  bench.table({
    title: `N = ${n.toLocaleString('en-US')}: Temporal server requests per run by operation (frontend, at least 0.5 per run in some mode)`,
    columns: ['mode', ...shown, 'other'],
    rows: at.map((r) => {
      const shownSum = shown.reduce((s, op) => s + (r.requestsByOperation[op] ?? 0), 0);
      return [
        LABEL[r.mode],
        ...shown.map((op) => r.requestsByOperation[op] ?? 0),
        r1(r.serverRequestsPerRun - shownSum),
      ];
    }),
  });
}

for (const n of NS) {
  const at = rows.filter((r) => r.n === n);
  bench.table({
    title:
      `N = ${n.toLocaleString('en-US')}: where the time goes, ms: workflow start request -> run created; a run without a pause, ` +
      'running -> end (emulator, s); run end -> workflow closed; every pause (from history): emulator ' +
      'timestamp -> reached the server (activity completed or signal), -> taken in by the workflow (ours: the CoastyStatus ' +
      'upsert; baselines: the workflow task), -> seen by the watcher’s query; machine load average at start and end',
    columns: [
      'mode',
      'start->created p50',
      'p99',
      'run p50 s',
      'max s',
      'end->closed p50',
      'p99',
      'pause->server p50',
      'p99',
      '->workflow p50',
      'p99',
      '->query p50',
      'p99',
      'sampled',
      'load avg',
    ],
    rows: at.map((r) => [
      LABEL[r.mode],
      r.time.createP50,
      r.time.createP99,
      r.time.runP50S,
      r.time.runMaxS,
      r.time.closeP50,
      r.time.closeP99,
      r.time.toServerP50,
      r.time.toServerP99,
      r.time.inWorkflowP50,
      r.time.inWorkflowP99,
      r.time.toQueryP50,
      r.time.toQueryP99,
      r.time.sampled,
      `${r.loadAvg[0]} -> ${r.loadAvg[1]}`,
    ]),
  });
}

const byMode = (n: number, mode: Mode) => rows.find((r) => r.n === n && r.mode === mode);
const runsWell = (r: Row) =>
  r.completed === r.n &&
  r.pauses.seen === r.pauses.expected &&
  r.pauses.p99 < 1000 &&
  r.worker.peakRssMb < 1536;
const describeRow = (r: Row) =>
  `N = ${r.n}: ${r.completed}/${r.n} completed, pause p99 ${r.pauses.p99} ms (${r.pauses.seen}/${r.pauses.expected} measured), worker peak RSS ${r.worker.peakRssMb} MB`;
for (const mode of ['stream', 'webhook'] as const) {
  if (!modes.includes(mode)) continue;
  const at = byMode(GOAL_N, mode);
  const largest = rows.filter((r) => r.mode === mode).at(-1);
  bench.goal({
    goal: `${LABEL[mode]}: at N = ${GOAL_N.toLocaleString('en-US')}, every run completes, pause delay p99 under 1 s, worker RSS under 1.5 GB`,
    met: at ? runsWell(at) : null,
    measured: at
      ? describeRow(at)
      : `not run at ${GOAL_N} (use --full); largest N run: ${largest ? describeRow(largest) : 'none'}`,
  });
}
if (modes.includes('webhook')) {
  const at = byMode(HOLD_N, 'webhook');
  bench.goal({
    goal: `${LABEL.webhook} holds N = ${HOLD_N.toLocaleString('en-US')} (every run completes, pause p99 under 1 s, worker RSS under 1.5 GB)`,
    met: at ? runsWell(at) : null,
    measured: at ? describeRow(at) : `not run at ${HOLD_N} (use --full)`,
  });
}
if (modes.includes('polling') || modes.includes('listener')) {
  for (const mode of ['stream', 'webhook'] as const) {
    if (!modes.includes(mode)) continue;
    // Per-run counts compare only between modes that finished: one cut at the deadline counted a window.
    const checks = NS.flatMap((n) => {
      const ours = byMode(n, mode);
      const peers = [byMode(n, 'polling'), byMode(n, 'listener')].filter((r): r is Row => r !== undefined);
      const finished = peers.filter((p) => !p.timedOut);
      if (!ours || finished.length === 0) return [];
      const least = Math.min(...finished.map((p) => p.serverRequestsPerRun));
      const peerText = peers
        .map(
          (p) =>
            `${p.mode} ${r1(p.serverRequestsPerRun)}${p.timedOut ? ' (cut at the deadline: not compared)' : ''}`,
        )
        .join(', ');
      return [
        {
          met: !ours.timedOut && ours.serverRequestsPerRun <= least / 2,
          text: `N = ${n}: ${r1(ours.serverRequestsPerRun)} per run${ours.timedOut ? ' (cut at the deadline)' : ''} against ${peerText}`,
        },
      ];
    });
    bench.goal({
      goal: `${LABEL[mode]}: at most half the Temporal server requests per run of the polling activity and of the SSE listener`,
      met: checks.length ? checks.every((c) => c.met) : null,
      measured: checks.length ? checks.map((c) => c.text).join('; ') : 'no baseline finished to compare with',
    });
  }
}
bench.note(
  'Each mode runs alone on a fresh Temporal dev server, emulator and worker process (one after the other, same machine). ' +
    'Server requests: the dev server frontend’s service_requests over the window from the first start to the last close, ' +
    'divided by N; the benchmark’s own queries (with the query tasks they hand the worker: one poll and one RespondQueryTaskCompleted each), visibility counts and lists are left out, its starts and decide updates are in. ' +
    'Runs API requests leave out the pause watcher’s lists. CPU: utime+stime over the same window; RSS: VmHWM.',
);
bench.note(
  'Pause delay: emulator awaiting_human timestamp -> first `progress` query answering awaiting_human; measured to within ~50 ms ' +
    'plus a query round trip (the watcher lists paused runs every 50 ms, then queries every 50 ms). Ours read the status that ' +
    'the workflow sets once it knows the pause; the polling baseline learns it at its next poll (0-2 s later).',
);
for (const r of rows) {
  if (!r.time.timeline.length) continue;
  bench.note(
    `A pause's way into the workflow, ${LABEL[r.mode]} at N = ${r.n} (ms after the pause, p50/p99, from history): ` +
      r.time.timeline.map((t) => `${t.event} ${t.p50}/${t.p99}`).join(', ') +
      '.',
  );
}
const cut = rows.filter((r) => r.timedOut);
if (cut.length)
  bench.note(
    `(deadline): ${cut.map((r) => `${LABEL[r.mode]} at N = ${r.n}`).join(', ')} had not finished when the deadline came ` +
      '(twice the ideal + 90 s + 1 s per 50 runs, from the first start); its per-run numbers count only that window, so ' +
      'they are not compared with the other modes.',
  );
const hooks = rows.filter((r) => r.webhooks);
if (hooks.length)
  bench.note(
    `Webhook deliveries (emulator): ${hooks
      .map(
        (r) =>
          `N = ${r.n}: ${r.webhooks!.deliveries} delivered in ${r.webhooks!.attempts} attempts, ${r.webhooks!.failures} given up`,
      )
      .join('; ')}.`,
  );
for (const r of rows.filter((x) => x.profile)) {
  for (const file of readdirSync(r.profile!).filter((f) => f.endsWith('.cpuprofile'))) {
    const byPackage = selfTime(loadProfile(join(r.profile!, file)), packageOf);
    const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
    const busy = total - (byPackage.get('((idle))') ?? 0);
    const top = [...byPackage]
      .filter(([k]) => k !== '((idle))')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, us]) => `${k} ${round((us / busy) * 100)}%`)
      .join(', ');
    bench.note(
      `Worker profile, ${LABEL[r.mode]} at N = ${r.n}, ${join(r.profile!, file)}: ${round(busy / 1e6, 1)} s busy of ` +
        `${round(total / 1e6, 1)} s sampled; busy time by package: ${top}.`,
    );
  }
}
bench.result.raw = rows;
await bench.finish();
