// History size of agentRun against the number of agent steps and of human pauses.
//   node --import tsx bench/history.ts [--full] [--steps 10,100,1000] [--pause-steps 100,1000]
// Goal: constant in the number of steps (the stream is one activity; events never reach history).
// Bytes are counted two ways: the History protobuf as encoded (what the server stores and limits,
// 50 MB), and the sum of the decoded payload bytes in it (JSON inputs, results, signals).
import proto from '@temporalio/proto';
import { startEmulator } from '../emulator';
import type { AgentRunResult } from '../workflows/agent-run';
import { agentRun } from '../workflows/agent-run';
import {
  coastyStatusKey,
  humanInputSignal,
  progressQuery,
  type AgentRunProgress,
} from '../workflows/messages';
import {
  bundleWorkflows,
  numberList,
  parseFlags,
  round,
  spawnBenchWorker,
  startResult,
  startTemporal,
  uniqueId,
  waitFor,
  withTimeout,
} from './lib';

const { full, values } = parseFlags(['steps', 'pause-steps']);
const STEPS = numberList(values.steps, full ? [10, 100, 1000, 10000] : [10, 100, 1000]);
const PAUSE_STEPS = numberList(values['pause-steps'], full ? [100, 1000, 10000] : [100, 1000]);
const PAUSES = [1, 3];
const RUN_TIMEOUT_MS = 300_000;

interface Case {
  steps: number;
  pauses: number;
}

/** Pauses spread over the run: before steps N/(p+1), 2N/(p+1), ... */
function humanAt({ steps, pauses }: Case): number[] {
  return Array.from({ length: pauses }, (_, i) => Math.max(1, Math.floor(((i + 1) * steps) / (pauses + 1))));
}

function payloadBytes(value: unknown): { bytes: number; count: number; largest: number } {
  let bytes = 0;
  let count = 0;
  let largest = 0;
  const visit = (v: unknown, key?: string): void => {
    if (v instanceof Uint8Array) {
      if (key === 'data') {
        bytes += v.length;
        count += 1;
        largest = Math.max(largest, v.length);
      }
    } else if (Array.isArray(v)) v.forEach((x) => visit(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(value);
  return { bytes, count, largest };
}

const cases: Case[] = [
  ...STEPS.map((steps) => ({ steps, pauses: 0 })),
  ...PAUSES.flatMap((pauses) => PAUSE_STEPS.map((steps) => ({ steps, pauses }))),
];
const bench = startResult('history', 'History size of agentRun against steps and pauses', full, {
  steps: STEPS,
  pause_steps: PAUSE_STEPS,
  pauses: PAUSES,
  emulator_pace_ms: 0,
});

const temporalStack = await startTemporal();
const emulator = await startEmulator({ config: { machines: cases.length, agent: { paceMs: 0 } } });
const bundle = await bundleWorkflows('main');
const taskQueue = uniqueId('history');
const worker = await spawnBenchWorker({
  temporalAddress: temporalStack.server.address,
  baseUrl: emulator.baseUrl,
  apiKey: emulator.apiKey,
  taskQueue,
  bundlePath: bundle.codePath,
  maxConcurrentActivities: 100,
});

interface Row extends Case {
  events: number;
  protoBytes: number;
  payloadBytes: number;
  payloads: number;
  largestPayload: number;
  signals: number;
  status: string;
  handled: number;
}

try {
  const rows: Row[] = [];
  for (const [i, c] of cases.entries()) {
    const at = humanAt(c);
    const task = `history ${c.steps} steps [steps=${c.steps}]${at.length ? ` [human@${at.join(',')}]` : ''}`;
    const handle = await temporalStack.client.workflow.start(agentRun, {
      taskQueue,
      workflowId: uniqueId(`history-${c.steps}-${c.pauses}`),
      args: [{ request: { machine_id: `m-${i + 1}`, task } }],
    });
    // Approve each pause as soon as it shows; bounded by the number of pauses and time. A query that
    // arrives while a workflow task runs makes the server add a task to answer it (3 history events
    // that have nothing to do with the steps), so wait with describe, which writes nothing, and query
    // only once the run waits for a person with no task or activity in flight.
    const approved = new Set<string>();
    const done = handle.result() as Promise<AgentRunResult>;
    let finished = false;
    void done.then(
      () => (finished = true),
      () => (finished = true),
    );
    while (approved.size < c.pauses && !finished) {
      const progress = await waitFor(
        'a pause or the end',
        async () => {
          if (finished) return { status: 'done' } as unknown as AgentRunProgress;
          const described = await handle.describe();
          const idle = !described.raw.pendingWorkflowTask && !described.raw.pendingActivities?.length;
          if (described.typedSearchAttributes.get(coastyStatusKey) !== 'awaiting_human' || !idle)
            return undefined;
          const p = (await handle.query(progressQuery)) as AgentRunProgress;
          return p.status === 'awaiting_human' && p.awaiting && !approved.has(p.awaiting.requestId)
            ? p
            : undefined;
        },
        RUN_TIMEOUT_MS,
        20,
      );
      if (!progress.awaiting) break;
      approved.add(progress.awaiting.requestId);
      await handle.signal(humanInputSignal, {
        action: 'approve',
        requestId: progress.awaiting.requestId,
        by: 'bench',
      });
    }
    const result = await withTimeout('the run to finish', done, RUN_TIMEOUT_MS);
    const history = (await handle.fetchHistory()) as proto.temporal.api.history.v1.IHistory;
    const protoBytes = proto.temporal.api.history.v1.History.encode(history).finish().length;
    const payload = payloadBytes(history);
    const row: Row = {
      ...c,
      events: history.events?.length ?? 0,
      protoBytes,
      payloadBytes: payload.bytes,
      payloads: payload.count,
      largestPayload: payload.largest,
      signals: approved.size,
      status: result.status,
      handled: result.delivery.eventsHandled,
    };
    rows.push(row);
    console.error(
      `history: ${c.steps} steps, ${c.pauses} pauses: ${row.events} events, ${row.protoBytes} B (${result.status}, ${result.steps} steps)`,
    );
    if (result.status !== 'succeeded' || result.steps !== c.steps) {
      throw new Error(
        `run ended ${result.status} after ${result.steps} steps, expected succeeded after ${c.steps}`,
      );
    }
  }

  bench.table({
    title: 'agentRun history (proto bytes: the History message encoded; payload bytes: decoded payload data)',
    columns: [
      'steps',
      'pauses',
      'stream events',
      'history events',
      'proto bytes',
      'payload bytes',
      'payloads',
      'largest payload',
    ],
    rows: rows.map((r) => [
      r.steps,
      r.pauses,
      r.handled,
      r.events,
      r.protoBytes,
      r.payloadBytes,
      r.payloads,
      r.largestPayload,
    ]),
  });

  const verdicts = [0, ...PAUSES].map((pauses) => {
    const group = rows.filter((r) => r.pauses === pauses);
    const eventsSame = new Set(group.map((r) => r.events)).size === 1;
    const minBytes = Math.min(...group.map((r) => r.protoBytes));
    const maxBytes = Math.max(...group.map((r) => r.protoBytes));
    return { pauses, eventsSame, spread: maxBytes - minBytes, group };
  });
  const perPause =
    verdicts.length > 1
      ? round(
          ((verdicts.at(-1)!.group[0]?.events ?? 0) - (verdicts[0]!.group[0]?.events ?? 0)) / PAUSES.at(-1)!,
          1,
        )
      : 0;
  bench.goal({
    goal: 'history constant in the number of steps',
    met: verdicts.every((v) => v.eventsSame && v.spread <= 1024),
    measured: verdicts
      .map(
        (v) =>
          `${v.pauses} pauses: ${v.eventsSame ? `${v.group[0]?.events} events at every size` : `events ${v.group.map((r) => r.events).join('/')}`}, bytes within ${v.spread} B`,
      )
      .join('; '),
  });
  bench.note(
    `Each pause adds about ${perPause} history events: the stream activity returns at the pause, the signal ` +
      'arrives, a resume activity runs and a new stream activity starts, each with its workflow task. ' +
      'Bytes differ between step counts only by the content of the last action and the result text ' +
      '(goal: same number of events and at most 1 KB apart).',
  );
  bench.note(
    'A progress query that arrives while a workflow task runs adds 3 events (the server opens a task to answer ' +
      'it); this benchmark waits with describe and queries only at a pause, and `watch` queries a few times a ' +
      'second, so a watched run may hold a few more events, however many steps it takes.',
  );
  bench.result.raw = rows;
} finally {
  await worker.stop();
  await emulator.stop();
  await temporalStack.stop();
  await bundle.cleanup();
}
await bench.finish();
