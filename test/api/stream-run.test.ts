// The stream activity (activities/stream-run.ts) against scripted servers, in the SDK's activity
// environment: resends across attempts (audit A10) and a stream that ends early with 204 (B7).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { noSecrets } from '../../activities/secrets';
import { followRun, STREAM_ENDED_EARLY_TYPE } from '../../activities/stream-run';
import { emptySummary } from '../../activities/summary';
import type { StreamCursor } from '../../activities/types';
import { RunsClient } from '../../api/runs-client';
import type { Run } from '../../api/types';
import {
  json,
  openEventStream,
  sseEvent,
  startServer,
  type Handler,
  type TestServer,
} from './helpers/http-server';

let server: TestServer | undefined;
let client: RunsClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

async function serve(handler: Handler): Promise<RunsClient> {
  server = await startServer(handler);
  client = new RunsClient({ baseUrl: server.url, apiKey: 'sk_test_stream_run_0123' });
  return client;
}

const id = (n: number) => `e${String(n).padStart(3, '0')}`;

/** The cursor a previous attempt heartbeated after `handled` step events. */
function cursorAfter(handled: number): StreamCursor {
  const ids = Array.from({ length: handled }, (_, i) => id(i + 1));
  return {
    summary: {
      ...emptySummary('run_1', 'running'),
      steps: handled,
      costCents: handled * 5,
      eventsHandled: handled,
      lastEventId: id(handled),
    },
    recentIds: ids.slice(-32),
    reconnects: 0,
    retries: 0,
  };
}

/** A stream resuming after Last-Event-ID, but first resending `resend` events up to it; then steps to `last` and the end. */
function resendingStream(resend: number, last: number): Handler {
  return (req, res) => {
    const after = Number(String(req.headers['last-event-id'] ?? 'e000').slice(1));
    openEventStream(res);
    let text = '';
    for (let n = after - resend + 1; n <= after; n++) text += sseEvent(id(n), 'step', { step_id: `s${n}` });
    for (let n = after + 1; n <= last; n++) text += sseEvent(id(n), 'step', { step_id: `s${n}` });
    res.end(text + sseEvent(id(last + 1), 'succeeded', { status: 'succeeded', payload: { result: 'done' } }));
  };
}

function follow(api: RunsClient, heartbeatDetails?: StreamCursor): Promise<StreamCursor> {
  return new MockActivityEnvironment({ attempt: heartbeatDetails ? 2 : 1, heartbeatDetails }).run(
    (): Promise<StreamCursor> => followRun(api, { runId: 'run_1', returnOnAwaitingHuman: true }, noSecrets),
  );
}

test('a retry resumed with a resend within the heartbeated window counts each step once', async () => {
  const api = await serve(resendingStream(32, 100));
  const result = await follow(api, cursorAfter(92));
  assert.equal(result.summary.status, 'succeeded');
  assert.equal(result.summary.steps, 100);
  assert.equal(result.summary.costCents, 500);
});

test('a retry resumed with a resend longer than the window fails as a protocol error, never double counts', async () => {
  const api = await serve(resendingStream(40, 100));
  const error = await follow(api, cursorAfter(92)).then(
    (result) => assert.fail(`expected a protocol error, got ${result.summary.steps} steps`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ApplicationFailure, String(error));
  assert.equal(error.type, 'CoastyStreamProtocol');
  assert.equal(error.nonRetryable, true);
  assert.match(error.message, /resent, on resume, more events than the 32 ids.*counted twice/);
});

test('inside one attempt a resend of any length is recognised: each step counted once', async () => {
  let connections = 0;
  const api = await serve((req, res) => {
    connections += 1;
    const after = Number(String(req.headers['last-event-id'] ?? 'e000').slice(1));
    openEventStream(res);
    // Each reconnect resends everything from the first event, then 10 new ones, then drops.
    let text = '';
    for (let n = 1; n <= after; n++) text += sseEvent(id(n), 'step');
    for (let n = after + 1; n <= Math.min(after + 10, 60); n++) text += sseEvent(id(n), 'step');
    if (after + 10 >= 60) return res.end(text + sseEvent(id(61), 'succeeded', { status: 'succeeded' }));
    res.write(text, () => res.socket?.destroy());
  });
  const result = await new MockActivityEnvironment().run((): Promise<StreamCursor> =>
    followRun(api, { runId: 'run_1', returnOnAwaitingHuman: true }, noSecrets),
  );
  assert.equal(connections, 6);
  assert.equal(result.summary.steps, 60);
  assert.equal(result.summary.eventsHandled, 61);
});

test('ids in no order: a resend is still recognised, also one inside a connection', async () => {
  // Ids that neither increase nor decrease (37 n mod 101 is one to one), so the activity cannot tell a
  // new id by its order; and now and then an event of the same connection comes again.
  const scrambled = (n: number) => `x${String((n * 37) % 101).padStart(3, '0')}`;
  const numberOf = new Map(Array.from({ length: 61 }, (_, i) => [scrambled(i + 1), i + 1]));
  let connections = 0;
  const api = await serve((req, res) => {
    connections += 1;
    const lastId = req.headers['last-event-id'];
    const after = lastId === undefined ? 0 : numberOf.get(String(lastId))!;
    openEventStream(res);
    let text = '';
    for (let n = 1; n <= after; n++) text += sseEvent(scrambled(n), 'step');
    for (let n = after + 1; n <= Math.min(after + 10, 60); n++) {
      text += sseEvent(scrambled(n), 'step');
      if (n % 7 === 0 && n - 3 > after) text += sseEvent(scrambled(n - 3), 'step');
    }
    if (after + 10 >= 60)
      return res.end(text + sseEvent(scrambled(61), 'succeeded', { status: 'succeeded' }));
    res.write(text, () => res.socket?.destroy());
  });
  const result = await new MockActivityEnvironment().run((): Promise<StreamCursor> =>
    followRun(api, { runId: 'run_1', returnOnAwaitingHuman: true }, noSecrets),
  );
  assert.equal(connections, 6);
  assert.equal(result.summary.steps, 60);
  assert.equal(result.summary.eventsHandled, 61);
});

function runObject(status: Run['status'], steps: number): Partial<Run> {
  return {
    id: 'run_1',
    status,
    steps,
    cost_usd: steps * 0.05,
    result: status === 'succeeded' ? 'done' : null,
    error: null,
    awaiting_human: status === 'awaiting_human' ? { reason: 'r', since: '2025-01-01T00:00:00.000Z' } : null,
  };
}

function endsWith204(status: Run['status']): Handler {
  return (req, res) => {
    if (req.url?.endsWith('/events')) return res.writeHead(204).end();
    json(res, 200, runObject(status, 7));
  };
}

for (const status of ['running', 'queued', 'awaiting_human'] as const) {
  test(`a 204 while the run is ${status} (a pause the stream never saw) is a retryable failure, not a result`, async () => {
    const api = await serve(endsWith204(status));
    const error = await follow(api, cursorAfter(3)).then(
      (result) => assert.fail(`expected a retryable failure, got ${result.summary.status}`),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, STREAM_ENDED_EARLY_TYPE);
    assert.equal(error.nonRetryable, false);
    assert.match(error.message, new RegExp(`ended \\(HTTP 204\\) while the run is ${status}`));
  });
}

test('a 204 after the run ended takes the run as it is (an earlier attempt saw the end)', async () => {
  const api = await serve(endsWith204('succeeded'));
  const result = await follow(api, cursorAfter(3));
  assert.equal(result.summary.status, 'succeeded');
  assert.equal(result.summary.steps, 7);
  assert.equal(result.summary.result, 'done');
});
