// The benchmarks' worker process: what `coasty-temporal worker` runs (worker/main.ts: createWorker with
// the RunsClient from COASTY_* and Temporal from TEMPORAL_ADDRESS), with two differences:
// - the workflow code comes pre-bundled (--bundle), so starting several workers does not bundle each time;
// - with --probe-file, each heartbeat call of the stream activity that carries a new event id is
//   recorded as (event id, Date.now()) and written to the file at shutdown: the worker-side time at
//   which an event was handled, to compare with the emulator's timestamp of that event.
// - with --plain, a plain SDK worker (`Worker.create`, the SDK's defaults) with the fleet benchmark's
//   baseline activities (bench/fleet-activities.ts; FLEET_LISTENER_URL for the listener's), as a
//   Temporal user would write it, instead of createWorker.
// - BENCH_WORKER_OPTIONS (JSON): more worker options, for experiments (e.g. bench/fleet.ts
//   --worker-options '{"maxConcurrentWorkflowTaskExecutions":200}'); unset, the worker is as shipped.
// Lines on stdin: "reset" (event-loop delay window starts), "profile-start", "profile-stop <file>".
// SIGTERM / SIGINT drain the worker (the SDK's default), then the probe file is written.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import type { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { StreamCursor } from '../activities/types';
import { RunsClient } from '../api/runs-client';
import { createWorker } from '../worker/index';
import { isStreamActivityType } from '../workflows/names';

const { values } = parseArgs({
  options: {
    'task-queue': { type: 'string' },
    bundle: { type: 'string' },
    'max-concurrent-activities': { type: 'string', default: '1000' },
    'probe-file': { type: 'string' },
    plain: { type: 'boolean', default: false },
  },
});

const probeFile = values['probe-file'];
const probeIds: string[] = [];
// Event-loop delay of the worker's main thread (activities, workflow activations, heartbeats), 10 ms resolution.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
if (probeFile) loopDelay.enable();
// A line "reset" on stdin: the measured window starts now (after a warm-up). (Not a signal: the
// Temporal Runtime treats SIGINT, SIGTERM, SIGQUIT and SIGUSR2 as shutdown signals.)
// "profile-start" / "profile-stop <file>": a CPU profile of this (main) thread over a window, through
// the inspector; "profile-written" on stdout when the file is there.
let profiler: Session | undefined;
const stdinLines = createInterface({ input: process.stdin });
stdinLines.on('line', (line) => {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'reset') loopDelay.reset();
  if (command === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    void profiler
      .post('Profiler.enable')
      .then(() => profiler!.post('Profiler.start'))
      .then(() => console.log('profile-started'));
  }
  if (command === 'profile-stop' && profiler && arg) {
    const session = profiler;
    profiler = undefined;
    void session.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(arg, JSON.stringify(profile));
      session.disconnect();
      console.log('profile-written');
    });
  }
});
const probeTimes: number[] = [];

function probe(ctx: Context) {
  if (!isStreamActivityType(ctx.info.activityType)) return {};
  const heartbeat = ctx.heartbeat;
  let last: string | undefined;
  (ctx as { heartbeat: (details?: unknown) => void }).heartbeat = (details?: unknown) => {
    const id = (details as StreamCursor | undefined)?.summary?.lastEventId;
    if (id !== undefined && id !== last) {
      last = id;
      probeIds.push(id);
      probeTimes.push(Date.now());
    }
    heartbeat(details);
  };
  return {};
}

const client = RunsClient.fromEnv();
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
try {
  const taskQueue = values['task-queue']!;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const maxConcurrentActivityTaskExecutions = Number(values['max-concurrent-activities']);
  const extra = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as Record<string, unknown>;
  const worker = values.plain
    ? await Worker.create({
        connection,
        namespace,
        taskQueue,
        workflowBundle: { codePath: values.bundle! },
        activities: (await import('./fleet-activities')).createFleetActivities(
          client,
          process.env.FLEET_LISTENER_URL,
        ),
        maxConcurrentActivityTaskExecutions,
        ...extra,
      })
    : await createWorker({
        connection,
        namespace,
        taskQueue,
        client,
        maxConcurrentActivityTaskExecutions,
        workflowsPath: undefined,
        workflowBundle: { codePath: values.bundle! },
        interceptors: probeFile ? { activity: [probe] } : undefined,
        ...extra,
      });
  console.log(`Worker ready: task queue ${taskQueue} (pid ${process.pid})`);
  await worker.run();
  console.log('Worker stopped.');
} finally {
  if (probeFile) {
    loopDelay.disable();
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    const eventLoopDelayMs = {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    };
    writeFileSync(probeFile, JSON.stringify({ ids: probeIds, times: probeTimes, eventLoopDelayMs }));
  }
  stdinLines.close();
  process.stdin.destroy();
  await client.close();
  await connection.close();
}
