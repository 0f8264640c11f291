// No secret leaves the worker: runs whose agent echoes the secret (in its result, its failure, its
// question to a person), streams cut mid-run, a worker SIGKILLed mid-stream so that heartbeats
// and timeouts land in history. Then every history is fetched and searched, decoded (historyText),
// and so are both workers' logs: neither the API key nor the secret's value may appear anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isTerminalStatus } from '../../api/types';
import { startScenarioStack, suiteTag, type ChaosContext, type ScenarioStack } from '../chaos/lib/context';
import { settleAll, startRuns, type Outcome, type StartedRun } from '../chaos/lib/runs';
import { emptyRow } from '../chaos/lib/types';
import { listAllRuns, scanForLeaks } from '../chaos/lib/verify';
import { serverCursor } from '../helpers/agent-run';
import { testServerAddress } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const SECRET = `pw-${randomBytes(10).toString('hex')}`;
const API_KEY = `emu_leak_${randomBytes(10).toString('hex')}`;
// Every run waits before step 8 (an emulator hold) until the kill below has landed mid-stream.
const HOLD = '[hold@8]';
const stops: Array<() => unknown> = [];
let stack: ScenarioStack;
let runs: StartedRun[] = [];
let outcomes: Outcome[] = [];

before(async () => {
  const ctx: ChaosContext = {
    n: 12,
    long: false,
    temporalAddress: testServerAddress(),
    tag: suiteTag(),
    log: () => undefined,
    defer: (stop) => void stops.push(stop),
  };
  stack = await startScenarioStack(ctx, {
    label: 'leaks',
    secret: SECRET,
    apiKey: API_KEY,
    emulator: {
      agent: {
        rules: [
          {
            pattern: 'echo-error',
            behaviour: { error: { type: 'login_failed', message: `password ${SECRET} was refused` } },
          },
          {
            pattern: 'echo-question',
            behaviour: { humanReason: `May I type ${SECRET} into the bank form?` },
          },
        ],
      },
      faults: { stream: { dropAfterEvents: 9, resendOnResume: 2 } },
    },
  });
  // A second worker polls from the start; the first is SIGKILLed mid-stream below, and the retries
  // carry its last heartbeats into history through the timeout failures.
  const replacement = await stack.spawnWorker();
  const slow = { streamHeartbeatTimeout: '2s' } as const;
  const batches = await Promise.all([
    startRuns(stack, {
      n: 6,
      prefix: 'echo-result',
      shape: { steps: 16, paceMs: 5, extra: HOLD },
      input: slow,
    }),
    startRuns(stack, {
      n: 3,
      prefix: 'echo-error',
      shape: { steps: 16, paceMs: 5, extra: `${HOLD} [fail@12]` },
      input: slow,
      firstMachine: 6,
    }),
    startRuns(stack, {
      n: 3,
      prefix: 'echo-question',
      shape: { steps: 16, paceMs: 5, extra: `${HOLD} [human@10]` },
      input: { ...slow, approvalTimeout: '1s', approvalTimeoutPolicy: 'reject' },
      firstMachine: 9,
    }),
  ]);
  runs = batches.flat();
  const settling = settleAll(stack, runs, 180_000);
  await stack.emulator.admin.waitForHolds(
    'every run held with its stream open',
    (held) => held.filter((h) => h.open_streams > 0).length === runs.length,
  );
  // Heartbeats are coalesced: kill once some are on the server, so the timeouts carry them into history.
  await waitUntil(
    'heartbeated cursors on the server',
    async () => {
      const cursors = await Promise.all(runs.map((run) => serverCursor(run.handle).catch(() => undefined)));
      return cursors.filter((cursor) => (cursor?.summary.steps ?? 0) > 0).length >= 6;
    },
    60_000,
    50,
  );
  await stack.workers[0]!.kill();
  await stack.emulator.admin.release();
  outcomes = await settling;
  assert.ok(replacement.alive());
  await waitUntil(
    'every run to end',
    async () => (await listAllRuns(stack)).every((run) => isTerminalStatus(run.status)),
    60_000,
  );
});
after(async () => {
  for (const stop of stops.reverse())
    await Promise.resolve()
      .then(stop)
      .catch(() => undefined);
});

test('the agent really echoed the secret, so redaction was put to work', async () => {
  const truth = await listAllRuns(stack);
  assert.ok(
    truth.some((run) => run.result?.includes(SECRET)),
    'a result holds the secret',
  );
  assert.ok(
    truth.some((run) => run.error?.message.includes(SECRET)),
    'a failure holds the secret',
  );
  assert.ok(
    truth.some((run) => run.task.includes(SECRET)),
    'the API got the real value',
  );
  assert.ok(
    outcomes.every((o) => o.kind === 'completed'),
    JSON.stringify(outcomes.filter((o) => o.kind !== 'completed')),
  );
  const statuses = outcomes.map((o) => (o.kind === 'completed' ? o.result.status : o.kind)).sort();
  assert.deepEqual([...new Set(statuses)], ['failed', 'succeeded']);
  const retried = outcomes.filter((o) => o.kind === 'completed' && o.result.delivery.streamRetries > 0);
  assert.ok(retried.length > 0, 'the kill hit streams: timeouts with heartbeat details are in history');
});

test('no history and no worker log holds the API key or the secret', async () => {
  const row = emptyRow('leaks');
  await scanForLeaks(
    stack,
    row,
    runs.map((run) => run.workflowId),
  );
  assert.equal(row.scanned, runs.length + stack.workers.length);
  assert.deepEqual(row.problems, []);
  assert.equal(row.leaks, 0);
  assert.ok(stack.workers.every((worker) => worker.output.some((line) => line.startsWith('Worker ready'))));
});
