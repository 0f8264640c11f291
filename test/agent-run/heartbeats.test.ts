// When the stream activity heartbeats: an attempt's first heartbeat is sent to the server at once (a
// write there), so a run that is over before the coalescing window costs none; a slow run is
// heartbeated as it goes, and a retry records its attempt at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { RunsClient } from '../../api/runs-client';
import { followRun } from '../../activities/stream-run';
import type { StreamCursor } from '../../activities/types';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { waitUntil } from '../helpers/wait';

let emulator: RunningEmulator;
let client: RunsClient;
let machine = 0;
const noRedaction = (text: string) => text;

before(async () => {
  emulator = await startEmulator({ config: { machines: 4, agent: { paceMs: 0 } } });
  client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
});
after(async () => {
  await client?.close();
  await emulator?.stop();
});

async function createRun(task: string): Promise<string> {
  const run = await client.createRun({ machine_id: emulator.machines[machine++ % 4]!, task });
  return run.id;
}

/** A run that has already succeeded: its whole stream is there to be read at once. */
async function succeededRun(task: string): Promise<string> {
  const runId = await createRun(task);
  await waitUntil('the run to succeed', async () => (await client.getRun(runId)).status === 'succeeded');
  return runId;
}

function follow(runId: string, saved?: StreamCursor, attempt = saved ? 2 : 1) {
  const env = new MockActivityEnvironment({ attempt, ...(saved ? { heartbeatDetails: saved } : {}) });
  const heartbeats: StreamCursor[] = [];
  env.on('heartbeat', (details: StreamCursor) => heartbeats.push(details));
  const result: Promise<StreamCursor> = env.run(() =>
    followRun(client, { runId, returnOnAwaitingHuman: true }, noRedaction),
  );
  return { result, heartbeats };
}

test('a run already over when it is followed costs no heartbeat', async () => {
  const runId = await succeededRun('Quick [steps=2]');
  const { result, heartbeats } = follow(runId);
  const cursor = await result;
  assert.equal(cursor.summary.status, 'succeeded');
  assert.equal(cursor.summary.steps, 2);
  assert.deepEqual(heartbeats, []);
});

test('a slow run is heartbeated as it goes, never with an empty cursor, its progress in order', async () => {
  // The run waits before step 4 (an emulator hold) until the reader has heartbeated what came so far.
  const runId = await createRun('Slow [steps=6] [pace=5] [hold@4]');
  const { result, heartbeats } = follow(runId);
  await waitUntil('a heartbeat while the run waits', () => heartbeats.length >= 1, 30_000, 10);
  await emulator.admin.release({ runId });
  const cursor = await result;
  assert.equal(cursor.summary.status, 'succeeded');
  assert.ok(heartbeats.length >= 1);
  assert.ok(heartbeats[0]!.summary.steps <= 3, 'the first heartbeat came while the run was held');
  assert.ok(
    heartbeats.length < cursor.summary.eventsHandled,
    `events are heartbeated together: ${heartbeats.length} heartbeats for ${cursor.summary.eventsHandled} events`,
  );
  for (const beat of heartbeats) assert.notEqual(beat.summary.lastEventId ?? '', '');
  const steps = heartbeats.map((beat) => beat.summary.steps);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
  );
});

test('a retry heartbeats at once, counting its attempt, and resumes after the saved cursor', async () => {
  const runId = await succeededRun('Resumed [steps=3]');
  const first = follow(runId);
  const finished = await first.result;
  const saved: StreamCursor = { ...finished, summary: { ...finished.summary, status: 'running' } };
  const retry = follow(runId, saved);
  assert.equal(retry.heartbeats.length, 1, 'the attempt is recorded before any event arrives');
  assert.equal(retry.heartbeats[0]!.retries, saved.retries + 1);
  const cursor = await retry.result;
  assert.equal(cursor.retries, saved.retries + 1);
  assert.equal(cursor.summary.eventsHandled, finished.summary.eventsHandled, 'no event handled twice');
});

test('a retry whose first attempt died before any heartbeat still counts, and handles every event once', async () => {
  const runId = await succeededRun('Killed early [steps=3]');
  const retry = follow(runId, undefined, 2);
  const cursor = await retry.result;
  assert.equal(cursor.retries, 1);
  assert.equal(cursor.summary.steps, 3);
  assert.deepEqual(retry.heartbeats, []);
});
