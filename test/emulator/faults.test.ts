import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunEvent } from '../../api/types';
import type { RunningEmulator } from '../../emulator/index';
import {
  call,
  createRun,
  emulator,
  eventsOf,
  openStream,
  parseBlocks,
  waitFor,
  waitForEnd,
  waitForStatus,
} from './helpers';

// A careful client: resumes with the last id it handled and drops ids it has already seen.
async function follow(
  emu: RunningEmulator,
  runId: string,
): Promise<{ handled: RunEvent[]; connections: number; duplicates: number }> {
  const handled: RunEvent[] = [];
  const seen = new Set<string>();
  let lastId: string | undefined;
  let connections = 0;
  let duplicates = 0;
  for (;;) {
    connections++;
    if (connections > 500) throw new Error('too many reconnects');
    const stream = await openStream(emu, runId, lastId === undefined ? {} : { lastEventId: lastId });
    await stream.done;
    if (stream.status === 204) break;
    assert.equal(stream.status, 200);
    const complete = stream.text.slice(0, stream.text.lastIndexOf('\n\n') + 2);
    let terminal = false;
    for (const event of eventsOf(complete)) {
      if (seen.has(event.id)) {
        duplicates++;
        continue;
      }
      seen.add(event.id);
      handled.push(event);
      lastId = event.id;
      if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(event.type)) terminal = true;
    }
    if (terminal && stream.ended) break;
  }
  return { handled, connections, duplicates };
}

describe('stream faults', () => {
  test('drop after N events: each connection is cut after N events; resuming gets everything once', async (t) => {
    const emu = await emulator(t, { config: { faults: { stream: { dropAfterEvents: 3 } } } });
    const run = await createRun(emu, { task: 'Dropped [steps=10]' });
    await waitForEnd(emu, run.id);
    const first = await openStream(emu, run.id);
    await first.done;
    assert.equal(first.errored, true, 'the response did not end cleanly');
    assert.equal(eventsOf(first.text).length, 3);
    const { handled, connections } = await follow(emu, run.id);
    assert.deepEqual(handled, await emu.admin.runEvents(run.id));
    assert.equal(connections, 5, '13 events, 3 per connection');
    const counters = await emu.admin.counters();
    assert.equal(counters.streams_dropped, 5);
    assert.equal(counters.reconnects_with_last_event_id, 4);
  });

  test('drop with probability p per event is seeded: the same cut points twice; maxDrops bounds it', async (t) => {
    const cuts = async (): Promise<number[]> => {
      const emu = await emulator(t, {
        config: { seed: 3, faults: { stream: { dropProbability: 0.25, maxDrops: 6 } } },
      });
      const run = await createRun(emu, { task: 'Flaky [steps=30]' });
      await waitForEnd(emu, run.id);
      const lengths: number[] = [];
      const { handled } = await followRecording(emu, run.id, lengths);
      assert.deepEqual(handled, await emu.admin.runEvents(run.id));
      assert.equal((await emu.admin.counters()).streams_dropped, 6);
      return lengths;
    };
    const a = await cuts();
    assert.deepEqual(await cuts(), a);
    assert.equal(a.length, 7);
  });

  test('resend the last k events on a resumed stream, before the new ones', async (t) => {
    const emu = await emulator(t, { config: { faults: { stream: { resendOnResume: 2 } } } });
    const run = await createRun(emu, { task: 'Resend [steps=6]' });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    const resumed = await openStream(emu, run.id, { lastEventId: truth[4]?.id });
    await resumed.done;
    assert.deepEqual(eventsOf(resumed.text), truth.slice(3));
    const near = await openStream(emu, run.id, { lastEventId: truth[0]?.id });
    await near.done;
    assert.deepEqual(eventsOf(near.text), truth, 'clamped at the first event');
    const done = await openStream(emu, run.id, { lastEventId: truth[truth.length - 1]?.id });
    assert.equal(done.status, 204);
    assert.equal((await emu.admin.counters()).events_resent, 3);
    await emu.admin.setFaults({ stream: { resendOnResume: 3, dropAfterEvents: 4 } });
    const { handled, duplicates } = await follow(emu, run.id);
    assert.deepEqual(handled, truth);
    assert.ok(duplicates > 0, 'the client saw (and dropped) resent events');
  });

  test('faults switched at run time reach streams that are already open', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 2 } } });
    const run = await createRun(emu, { task: 'Switch [human@2] [steps=8]' });
    const stream = await openStream(emu, run.id);
    await waitForStatus(emu, run.id, 'awaiting_human');
    await emu.admin.setFaults({ stream: { dropAfterEvents: 1 } });
    await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve' } });
    await stream.done;
    assert.equal(stream.errored, true);
    assert.equal((await emu.admin.faults()).stream?.dropAfterEvents, 1);
    await emu.admin.clearFaults();
    assert.deepEqual(await emu.admin.faults(), {});
  });
});

async function followRecording(
  emu: RunningEmulator,
  runId: string,
  lengths: number[],
): Promise<{ handled: RunEvent[] }> {
  const handled: RunEvent[] = [];
  let lastId: string | undefined;
  for (let i = 0; i < 200; i++) {
    const stream = await openStream(emu, runId, lastId === undefined ? {} : { lastEventId: lastId });
    await stream.done;
    if (stream.status === 204) break;
    const events = eventsOf(stream.text);
    lengths.push(events.length);
    handled.push(...events);
    lastId = events[events.length - 1]?.id ?? lastId;
    if (stream.ended) break;
  }
  return { handled };
}

describe('HTTP faults', () => {
  test('429 and 503 with Retry-After at rate 1, only for the chosen endpoint classes', async (t) => {
    const emu = await emulator(t, {
      config: {
        faults: {
          errors: [
            { status: 503, rate: 1, retryAfterSeconds: 2, endpoints: ['create'] },
            { status: 429, rate: 1, endpoints: ['list'] },
          ],
        },
      },
    });
    const create = await call(emu, '/v1/runs', { body: { machine_id: 'm-1', task: 'x' } });
    assert.equal(create.status, 503);
    assert.equal(create.headers['retry-after'], '2');
    assert.equal(create.json.error.type, 'service_unavailable');
    const list = await call(emu, '/v1/runs');
    assert.equal(list.status, 429);
    assert.equal(list.json.error.type, 'rate_limited');
    assert.equal(list.headers['retry-after'], '1');
    assert.equal((await call(emu, '/v1/machines')).status, 200);
    const counters = await emu.admin.counters();
    assert.equal(counters.runs_created, 0, 'a refused create creates nothing');
    assert.equal(counters.faults_injected, 2);
  });

  test('a partial error rate is seeded: the same status sequence for the same seed', async (t) => {
    const statuses = async (seed: number): Promise<number[]> => {
      const emu = await emulator(t, { config: { faults: { seed, errors: [{ status: 503, rate: 0.4 }] } } });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await call(emu, '/v1/machines')).status);
      return out;
    };
    const a = await statuses(11);
    assert.deepEqual(await statuses(11), a);
    assert.notDeepEqual(await statuses(12), a);
    assert.ok(a.includes(503) && a.includes(200));
  });

  test('an injected fault on the stream endpoint is a plain error response', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [steps=1]' });
    await emu.admin.setFaults({ errors: [{ status: 503, rate: 1, endpoints: ['stream'] }] });
    const reply = await call(emu, `/v1/runs/${run.id}/events`);
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['retry-after'], '1');
    assert.match(String(reply.headers['content-type']), /application\/json/);
  });

  test('delayed response headers', async (t) => {
    const emu = await emulator(t, {
      config: { faults: { delayHeadersMs: 150, delayEndpoints: ['machines'] } },
    });
    let started = performance.now();
    assert.equal((await call(emu, '/v1/machines')).status, 200);
    assert.ok(performance.now() - started >= 145);
    started = performance.now();
    await call(emu, '/v1/runs');
    const quick = performance.now() - started;
    t.diagnostic(`undelayed call took ${quick.toFixed(1)} ms`);
    await emu.admin.setFaults({ delayHeadersMs: 100 });
    const run = await createRun(emu, { task: 'x [steps=1]' });
    started = performance.now();
    const stream = await openStream(emu, run.id);
    assert.ok(performance.now() - started >= 95, 'streams are delayed too');
    await stream.done;
  });

  test('a lost response: the run is created but the answer never arrives; a keyed retry gets it', async (t) => {
    const emu = await emulator(t, {
      config: { faults: { lostResponses: { rate: 1, endpoints: ['create'] } } },
    });
    const body = { machine_id: 'm-1', task: 'lost [steps=1]' };
    const headers = { 'idempotency-key': 'lost-1' };
    await assert.rejects(call(emu, '/v1/runs', { body, headers }), /socket hang up|ECONNRESET/);
    assert.equal((await emu.admin.counters()).runs_created, 1);
    await emu.admin.clearFaults();
    const retry = await call(emu, '/v1/runs', { body, headers });
    assert.equal(retry.status, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    const counters = await emu.admin.counters();
    assert.equal(counters.runs_created, 1);
    assert.equal(counters.responses_lost, 1);
  });

  test('per-key rate limit: 429 rate_limited with Retry-After, other keys unaffected', async (t) => {
    const emu = await emulator(t, {
      config: { apiKeys: ['k2'], rateLimit: { requestsPerSecond: 0.5, burst: 3 } },
    });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await call(emu, '/v1/machines');
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(last?.json.error.type, 'rate_limited');
    assert.equal(last?.headers['retry-after'], '2');
    assert.equal((await call(emu, '/v1/machines', { key: 'k2' })).status, 200);
    assert.equal((await emu.admin.counters()).rate_limited, 2);
  });

  test('PUT /_emulator/faults refuses an invalid config with 400', async (t) => {
    const emu = await emulator(t);
    const reply = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${emu.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ errors: [{ status: 418, rate: 2 }] }),
    });
    assert.equal(reply.status, 400);
    const body = (await reply.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request');
    assert.match(body.error.message, /errors/);
  });
});

describe('malformed streams (chaos modes)', () => {
  async function malformed(t: Parameters<typeof emulator>[0], mode: string) {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'chaos [steps=3]' });
    await waitForEnd(emu, run.id);
    await emu.admin.setFaults({ stream: { malformed: mode as 'garbage_lines' } });
    const stream = await openStream(emu, run.id);
    await stream.done;
    return { emu, run, stream, truth: await emu.admin.runEvents(run.id) };
  }

  test('garbage_lines: extra blocks a correct parser ignores', async (t) => {
    const { stream, truth } = await malformed(t, 'garbage_lines');
    assert.ok(stream.text.includes('this line has no colon\n'));
    const withIds = stream.text
      .split('\n\n')
      .filter((b) => b.includes('\ndata: ') || b.startsWith('data: ') || b.startsWith('id: '))
      .map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)) as RunEvent);
    assert.deepEqual(withIds, truth);
  });

  test('non_json_data: one data block that is not JSON, without an id', async (t) => {
    const { stream, truth } = await malformed(t, 'non_json_data');
    const blocks = parseBlocks(stream.text).filter((b) => b.data !== undefined);
    assert.equal(blocks.length, truth.length + 1);
    const odd = blocks.filter((b) => b.id === undefined);
    assert.equal(odd.length, 1);
    assert.throws(() => JSON.parse(odd[0]?.data ?? ''));
  });

  test('missing_ids: events without id lines', async (t) => {
    const { stream, truth } = await malformed(t, 'missing_ids');
    const blocks = parseBlocks(stream.text).filter((b) => b.data !== undefined);
    assert.equal(blocks.length, truth.length);
    assert.ok(blocks.every((b) => b.id === undefined));
  });

  test('huge_event: a 2 MB data line before the events', async (t) => {
    const { stream, truth } = await malformed(t, 'huge_event');
    const blocks = parseBlocks(stream.text).filter((b) => b.data !== undefined);
    assert.ok((blocks[0]?.data?.length ?? 0) >= 2 * 1024 * 1024 - 100);
    assert.equal(blocks.length, truth.length + 1);
  });

  test('wrong_content_type: 200 with text/plain', async (t) => {
    const { stream, truth } = await malformed(t, 'wrong_content_type');
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/plain/);
    assert.deepEqual(eventsOf(stream.text), truth);
  });

  test('html_error_200: an HTML error page with status 200', async (t) => {
    const { stream } = await malformed(t, 'html_error_200');
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/html/);
    assert.match(stream.text, /<html>/);
  });
});

describe('faults from the start options', () => {
  test('config faults are restored by reset', async (t) => {
    const emu = await emulator(t, {
      config: { faults: { errors: [{ status: 503, rate: 1, endpoints: ['get'] }] } },
    });
    await emu.admin.clearFaults();
    assert.deepEqual(await emu.admin.faults(), {});
    await emu.admin.reset();
    assert.equal((await emu.admin.faults()).errors?.[0]?.status, 503);
    await waitFor('reset counters', async () => (await emu.admin.counters()).requests === 0);
  });
});
