// The server's `retry:` hint and Retry-After are capped (audit A11), the first reconnect included.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { DEFAULT_RECONNECT_POLICY, MAX_TIMER_MS, reconnectDelayMs } from '../../api/backoff';
import { MAX_SERVER_DELAY_MS, errorFromResponse } from '../../api/errors';
import { RunsClient } from '../../api/runs-client';
import type { ReconnectInfo } from '../../api/stream-events';
import { openEventStream, sseEvent, startServer, type TestServer } from './helpers/http-server';

const HOUR_MS = 3_600_000;
const max = () => 0.999_999;

test('the default cap is 60 s, and below the timer limit', () => {
  assert.equal(MAX_SERVER_DELAY_MS, 60_000);
  assert.equal(DEFAULT_RECONNECT_POLICY.maxServerDelayMs, MAX_SERVER_DELAY_MS);
  assert.ok(MAX_SERVER_DELAY_MS < MAX_TIMER_MS);
});

test('an hour-long retry: hint waits at most the cap, from the first reconnect on', () => {
  for (let failures = 1; failures <= 8; failures++) {
    const delay = reconnectDelayMs(failures, HOUR_MS, DEFAULT_RECONNECT_POLICY, 0, max);
    assert.ok(delay <= MAX_SERVER_DELAY_MS, `reconnect ${failures}: ${delay} ms`);
    assert.ok(delay >= MAX_SERVER_DELAY_MS * 0.99, 'a large hint still means a long wait, up to the cap');
  }
});

test('an hour-long Retry-After, or one past 2^31 ms, waits at most the cap', () => {
  for (const retryAfter of [HOUR_MS, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER, Infinity]) {
    const delay = reconnectDelayMs(1, 1000, DEFAULT_RECONNECT_POLICY, retryAfter, max);
    assert.ok(delay <= MAX_SERVER_DELAY_MS && delay > 0, `${retryAfter}: ${delay}`);
  }
});

test('below the cap nothing changes: the hint, 2^(n-1) up to 15 s, Retry-After, jitter', () => {
  const none = () => 0;
  assert.equal(reconnectDelayMs(1, 1000, DEFAULT_RECONNECT_POLICY, 0, none), 1000);
  assert.equal(reconnectDelayMs(3, 1000, DEFAULT_RECONNECT_POLICY, 0, none), 4000);
  assert.equal(reconnectDelayMs(9, 1000, DEFAULT_RECONNECT_POLICY, 0, none), 15_000);
  assert.equal(
    reconnectDelayMs(1, 30_000, DEFAULT_RECONNECT_POLICY, 0, none),
    30_000,
    'a hint above 15 s is kept',
  );
  assert.equal(reconnectDelayMs(1, 1000, DEFAULT_RECONNECT_POLICY, 20_000, none), 20_000);
  assert.equal(
    reconnectDelayMs(1, 1000, DEFAULT_RECONNECT_POLICY, 0, () => 0.5),
    1125,
  );
});

test('Retry-After on an API answer is capped too (it becomes the activity retry delay)', () => {
  const error = errorFromResponse({
    status: 503,
    method: 'GET',
    path: '/v1/runs',
    body: '',
    retryAfter: '3600',
  });
  assert.equal(error.retryAfterMs, MAX_SERVER_DELAY_MS);
  assert.match(error.message, /retry in 60 s/);
});

let server: TestServer | undefined;
let client: RunsClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
});

test('a stream that sends retry: 3600000 then drops reconnects within the cap', async () => {
  const cap = 300;
  server = await startServer((req, res) => {
    openEventStream(res);
    if (req.headers['last-event-id'] === 'e1') {
      res.end(sseEvent('e2', 'succeeded', { status: 'succeeded' }));
      return;
    }
    res.write(`retry: ${HOUR_MS}\n\n${sseEvent('e1', 'step')}`, () => res.socket?.destroy());
  });
  client = new RunsClient({ baseUrl: server.url, apiKey: 'sk_test_backoff_0123456' });
  const reconnects: ReconnectInfo[] = [];
  const stream = client.streamEvents('run_1', {
    reconnect: { maxServerDelayMs: cap },
    onReconnect: (info) => reconnects.push(info),
  });
  const started = performance.now();
  const ids: string[] = [];
  for await (const event of stream) ids.push(event.id);
  const elapsed = performance.now() - started;
  assert.deepEqual(ids, ['e1', 'e2']);
  assert.equal(stream.retryHintMs, HOUR_MS, 'the hint was read');
  assert.equal(reconnects.length, 1);
  assert.ok(reconnects[0]!.delayMs <= cap, `waited ${reconnects[0]!.delayMs} ms`);
  assert.ok(elapsed < 30_000, `the stream ended after ${Math.round(elapsed)} ms, not an hour`);
});
