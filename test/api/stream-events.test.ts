import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, test } from 'node:test';
import {
  NetworkError,
  NotFoundError,
  StreamProtocolError,
  UnexpectedContentTypeError,
} from '../../api/errors';
import { RunsClient } from '../../api/runs-client';
import type { ReconnectInfo, StreamEventsOptions } from '../../api/stream-events';
import type { RunEvent } from '../../api/types';
import {
  closed,
  openEventStream,
  sseEvent,
  startServer,
  type Handler,
  type TestServer,
} from './helpers/http-server';

const KEY = 'sk_test_stream_0123456789';
const FAST: StreamEventsOptions['reconnect'] = { initialDelayMs: 5, jitter: 0 };

let server: TestServer | undefined;
let client: RunsClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function serve(handler: Handler): Promise<{ server: TestServer; client: RunsClient }> {
  server = await startServer(handler);
  client = new RunsClient({ baseUrl: server.url, apiKey: KEY });
  return { server, client };
}

/** Writes then destroys the socket once the bytes are out: a connection dropped mid-stream. */
function writeAndDrop(res: ServerResponse, text: string): void {
  res.write(text, () => res.socket?.destroy());
}

async function collect(iterable: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

function ids(events: RunEvent[]): string[] {
  return events.map((event) => event.id);
}

describe('streamEvents', () => {
  test('yields parsed events and ends at the terminal event without waiting for the end of the body', async () => {
    let response: ServerResponse | undefined;
    const body = `retry: 1000\n\n: keepalive\n\n${sseEvent('1', 'queued')}${sseEvent('2', 'step', { step_id: 'step_1' })}${sseEvent('3', 'succeeded', { payload: { result: 'done' } })}`;
    const { client, server } = await serve((_req, res) => {
      response = res;
      openEventStream(res);
      res.write(body);
    });
    const stream = client.streamEvents('run_1');
    const events = await collect(stream);
    assert.deepEqual(ids(events), ['1', '2', '3']);
    assert.equal(events[1]?.step_id, 'step_1');
    assert.deepEqual(events[2]?.payload, { result: 'done' });
    assert.equal(stream.lastEventId, '3');
    assert.equal(stream.retryHintMs, 1000);
    assert.deepEqual(stream.stats, {
      connections: 1,
      reconnects: 0,
      bytes: Buffer.byteLength(body),
      events: 3,
    });
    const request = server.requests[0];
    assert.equal(request?.url, '/v1/runs/run_1/events');
    assert.equal(request?.headers.accept, 'text/event-stream');
    assert.equal(request?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(request?.headers['last-event-id'], undefined);
    assert.ok(response);
    await closed(response);
  });

  test('a multi-byte UTF-8 character split across chunks', async () => {
    const text = 'Prix: 12 € — ok 😀';
    const bytes = Buffer.from(`${sseEvent('1', 'step', { observation: text })}${sseEvent('2', 'succeeded')}`);
    const euro = bytes.indexOf(Buffer.from('€'));
    const emoji = bytes.indexOf(Buffer.from('😀'));
    const cuts = [euro + 1, euro + 2, emoji + 1, emoji + 3, bytes.length];
    const { client } = await serve(async (_req, res) => {
      openEventStream(res);
      let start = 0;
      for (const cut of cuts) {
        await new Promise<void>((resolve) =>
          res.write(bytes.subarray(start, cut), () => setImmediate(resolve)),
        );
        start = cut;
      }
    });
    const events = await collect(client.streamEvents('run_1'));
    assert.equal(events[0]?.observation, text);
    assert.deepEqual(ids(events), ['1', '2']);
  });

  test('reconnects after a dropped connection with Last-Event-ID', async () => {
    const { client, server } = await serve((req, res, index) => {
      openEventStream(res);
      if (index === 0)
        return writeAndDrop(res, `retry: 10\n\n${sseEvent('1', 'running')}${sseEvent('2', 'step')}`);
      assert.equal(req.headers['last-event-id'], '2');
      res.end(`${sseEvent('3', 'step')}${sseEvent('4', 'failed')}`);
    });
    const reconnects: ReconnectInfo[] = [];
    const stream = client.streamEvents('run_1', { onReconnect: (info) => reconnects.push(info) });
    assert.deepEqual(ids(await collect(stream)), ['1', '2', '3', '4']);
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[1]?.headers['last-event-id'], '2');
    assert.equal(reconnects.length, 1);
    assert.equal(reconnects[0]?.lastEventId, '2');
    assert.equal(reconnects[0]?.attempt, 1);
    assert.ok(reconnects[0]?.error instanceof NetworkError);
    assert.equal(stream.stats.connections, 2);
    assert.equal(stream.stats.reconnects, 1);
    assert.equal(stream.stats.events, 4);
  });

  test('a body that ends without a terminal event is resumed; a 204 then ends the iteration', async () => {
    const { client, server } = await serve((_req, res, index) => {
      if (index === 1) return res.writeHead(204).end();
      openEventStream(res);
      res.end(`retry: 5\n\n${sseEvent('1', 'running')}`);
    });
    const stream = client.streamEvents('run_1');
    assert.deepEqual(ids(await collect(stream)), ['1']);
    assert.equal(server.requests[1]?.headers['last-event-id'], '1');
    assert.deepEqual(stream.stats, { connections: 1, reconnects: 1, bytes: stream.stats.bytes, events: 1 });
  });

  test('204 on the first request: nothing to stream', async () => {
    const { client } = await serve((_req, res) => res.writeHead(204).end());
    const stream = client.streamEvents('run_1', { lastEventId: '9' });
    assert.deepEqual(await collect(stream), []);
    assert.equal(stream.lastEventId, '9');
  });

  test('the retry: hint is the reconnect delay', async () => {
    const hintMs = 300;
    let droppedAt = 0;
    let reconnectedAt = 0;
    const { client } = await serve((_req, res, index) => {
      if (index === 1) {
        reconnectedAt = performance.now();
        openEventStream(res);
        return res.end(sseEvent('2', 'succeeded'));
      }
      res.once('close', () => (droppedAt = performance.now()));
      openEventStream(res);
      res.end(`retry: ${hintMs}\n\n${sseEvent('1', 'running')}`);
    });
    const delays: number[] = [];
    const events = await collect(
      client.streamEvents('run_1', { onReconnect: (info) => delays.push(info.delayMs) }),
    );
    assert.deepEqual(ids(events), ['1', '2']);
    assert.ok(delays[0] !== undefined && delays[0] >= hintMs, `planned ${delays[0]} ms`);
    assert.ok(
      droppedAt > 0 && reconnectedAt - droppedAt >= hintMs - 1,
      `waited ${reconnectedAt - droppedAt} ms`,
    );
  });

  test('a wrong content type fails at once, retryable, without reconnecting', async () => {
    const { client, server } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in to the Wi-Fi</html>');
    });
    await assert.rejects(collect(client.streamEvents('run_1')), (error: unknown) => {
      assert.ok(error instanceof UnexpectedContentTypeError);
      assert.ok(error instanceof StreamProtocolError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /answered text\/html instead of text\/event-stream: "<html>Sign in/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  test('non-JSON data is a final StreamProtocolError, after the good events', async () => {
    const { client, server } = await serve((_req, res) => {
      openEventStream(res);
      res.write(`${sseEvent('1', 'running')}id: 2\ndata: {"id": "2", oops\n\n${sseEvent('3', 'step')}`);
    });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of client.streamEvents('run_1')) seen.push(event.id);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof StreamProtocolError);
        assert.ok(!(error instanceof UnexpectedContentTypeError));
        assert.equal(error.retryable, false);
        assert.match(error.message, /malformed at event id 2: event data is not JSON: "\{"id": "2", oops"/);
        return true;
      },
    );
    assert.deepEqual(seen, ['1']);
    assert.equal(server.requests.length, 1);
  });

  test('an event without a type is a StreamProtocolError', async () => {
    const { client } = await serve((_req, res) => {
      openEventStream(res);
      res.write('id: 1\ndata: {"id": "1", "timestamp": "2025-01-01T00:00:00Z"}\n\n');
    });
    await assert.rejects(collect(client.streamEvents('run_1')), (error: unknown) => {
      assert.ok(error instanceof StreamProtocolError);
      assert.match(error.message, /without a string "id" and "type"/);
      return true;
    });
  });

  test('aborting while waiting for data rejects with the reason and closes the connection', async () => {
    let response: ServerResponse | undefined;
    const { client } = await serve((_req, res) => {
      response = res;
      openEventStream(res);
      res.write(sseEvent('1', 'awaiting_human'));
    });
    const controller = new AbortController();
    const iterator = client.streamEvents('run_1', { signal: controller.signal })[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.type, 'awaiting_human');
    const pending = iterator.next();
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.ok(response);
    await closed(response);
    assert.equal(response.destroyed || response.writableFinished, true);
  });

  test('aborting during the reconnect backoff rejects at once', async () => {
    const { client } = await serve((_req, res) => {
      openEventStream(res);
      writeAndDrop(res, `retry: 600000\n\n${sseEvent('1', 'running')}`);
    });
    const controller = new AbortController();
    const reason = new Error('worker shutting down');
    const started = performance.now();
    const stream = client.streamEvents('run_1', {
      signal: controller.signal,
      onReconnect: () => queueMicrotask(() => controller.abort(reason)),
    });
    await assert.rejects(collect(stream), (error: unknown) => error === reason);
    assert.ok(performance.now() - started < 60_000);
    assert.equal(stream.stats.reconnects, 1);
  });

  test('breaking out of the loop releases the connection', async () => {
    let response: ServerResponse | undefined;
    const { client } = await serve((_req, res) => {
      response = res;
      openEventStream(res);
      res.write(`${sseEvent('1', 'running')}${sseEvent('2', 'awaiting_human')}`);
    });
    for await (const event of client.streamEvents('run_1')) {
      if (event.type === 'awaiting_human') break;
    }
    assert.ok(response);
    await closed(response);
  });

  test('gives up after maxReconnects with a retryable NetworkError', async () => {
    const { client, server } = await serve((_req, res) => {
      openEventStream(res);
      writeAndDrop(res, 'retry: 5\n\n');
    });
    const stream = client.streamEvents('run_1', { maxReconnects: 2, reconnect: FAST });
    await assert.rejects(collect(stream), (error: unknown) => {
      assert.ok(error instanceof NetworkError);
      assert.equal(error.retryable, true);
      assert.match(
        error.message,
        /event stream of run run_1 is unavailable: 2 reconnect\(s\) in a row failed/,
      );
      return true;
    });
    assert.equal(server.requests.length, 3);
    assert.equal(stream.stats.reconnects, 2);
  });

  test('a 503 on reconnect is retried; a 404 is final', async () => {
    const { client, server } = await serve((_req, res, index) => {
      if (index === 0) {
        openEventStream(res);
        return writeAndDrop(res, `retry: 5\n\n${sseEvent('1', 'running')}`);
      }
      if (index === 1) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
        return res.end(JSON.stringify({ error: { type: 'unavailable', message: 'restarting' } }));
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'not_found', message: 'no such run' } }));
    });
    const stream = client.streamEvents('run_1');
    await assert.rejects(collect(stream), NotFoundError);
    assert.equal(server.requests.length, 3);
    assert.equal(server.requests[2]?.headers['last-event-id'], '1');
    assert.equal(stream.stats.reconnects, 2);
  });

  test('an id-only block moves the resume point', async () => {
    const { client, server } = await serve((_req, res, index) => {
      openEventStream(res);
      if (index === 0) return writeAndDrop(res, `retry: 5\n\n${sseEvent('1', 'running')}id: 7\n\n`);
      res.end(sseEvent('8', 'succeeded'));
    });
    const stream = client.streamEvents('run_1');
    assert.deepEqual(ids(await collect(stream)), ['1', '8']);
    assert.equal(server.requests[1]?.headers['last-event-id'], '7');
  });

  test('lastEventId follows the events handed out, not the events parsed ahead', async () => {
    const { client } = await serve((_req, res) => {
      openEventStream(res);
      res.write(['1', '2', '3'].map((id) => sseEvent(id, 'step')).join('') + sseEvent('4', 'succeeded'));
    });
    const stream = client.streamEvents('run_1');
    for await (const event of stream) assert.equal(stream.lastEventId, event.id);
    assert.equal(stream.stats.events, 4);
  });

  test('events without SSE ids resume from their JSON id; the initial cursor is sent as UTF-8', async () => {
    const { client, server } = await serve((_req, res, index) => {
      openEventStream(res);
      const event = (id: string, type: string) =>
        `data: ${JSON.stringify({ id, type, run_id: 'run_1' })}\n\n`;
      if (index === 0) return writeAndDrop(res, `retry: 5\n\n${event('e1', 'step')}`);
      res.end(event('e2', 'cancelled'));
    });
    const stream = client.streamEvents('run_1', { lastEventId: 'é0' });
    assert.deepEqual(ids(await collect(stream)), ['e1', 'e2']);
    const first = server.requests[0]?.headers['last-event-id'] as string;
    assert.equal(Buffer.from(first, 'latin1').toString('utf8'), 'é0');
    assert.equal(server.requests[1]?.headers['last-event-id'], 'e1');
    assert.equal(stream.lastEventId, 'e2');
  });

  test('a stream can be iterated once', async () => {
    const { client } = await serve((_req, res) => res.writeHead(204).end());
    const stream = client.streamEvents('run_1');
    await collect(stream);
    assert.throws(() => stream[Symbol.asyncIterator](), /only once/);
    assert.throws(() => stream.batches(), /only once/);
  });

  test('batches hand out the events of one write together, across a drop, with the cursor after each batch', async () => {
    const { client, server } = await serve((_req, res, index) => {
      openEventStream(res);
      if (index === 0)
        return writeAndDrop(res, `retry: 5\n\n${sseEvent('1', 'running')}${sseEvent('2', 'step')}`);
      res.write(sseEvent('2', 'step') + sseEvent('3', 'step') + sseEvent('4', 'succeeded'));
    });
    const stream = client.streamEvents('run_1');
    const batches: string[][] = [];
    for await (const batch of stream.batches()) {
      batches.push(ids([...batch]));
      assert.equal(stream.lastEventId, batch.at(-1)?.id);
    }
    // The resend of event 2 is handed out again: deduplicating is the consumer's job, as with events.
    assert.deepEqual(batches, [
      ['1', '2'],
      ['2', '3', '4'],
    ]);
    assert.equal(server.requests[1]?.headers['last-event-id'], '2');
    assert.deepEqual(
      { events: stream.stats.events, reconnects: stream.stats.reconnects },
      { events: 5, reconnects: 1 },
    );
    assert.throws(() => stream[Symbol.asyncIterator](), /only once/);
  });
});
