import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index';
import {
  call,
  createRun,
  emulator,
  eventsOf,
  frame,
  openStream,
  parseBlocks,
  waitFor,
  waitForEnd,
  waitForStatus,
} from './helpers';

describe('the event stream, to the byte', () => {
  test('a finished run streams retry, every event as id+data+blank line, LF only, then ends', async (t) => {
    const emu = await emulator(t, { config: { stream: { retryMs: 2000, retryJitterMs: 1000 } } });
    const run = await createRun(emu, { task: 'Fill the form [steps=5]' });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    const stream = await openStream(emu, run.id);
    await stream.done;
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream');
    assert.equal(stream.headers['cache-control'], 'no-cache, no-transform');
    assert.equal(stream.headers['content-encoding'], undefined);
    assert.equal(stream.ended, true);
    const retry = /^retry: (\d+)\n\n/.exec(stream.text);
    assert.ok(retry, 'opens with retry');
    const retryMs = Number(retry[1]);
    assert.ok(retryMs >= 2000 && retryMs <= 3000, `retry ${retryMs} within the jitter window`);
    assert.equal(stream.text, `retry: ${retryMs}\n\n${truth.map(frame).join('')}`);
    assert.ok(!stream.text.includes('\r'));
    assert.ok(!/^event:/m.test(stream.text));
    assert.deepEqual(
      truth.map((e) => e.type),
      ['queued', 'running', 'step', 'step', 'step', 'step', 'step', 'succeeded'],
    );
  });

  test('every event carries id, run_id, type, timestamp, status; steps carry step_id, action, observation, cost', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Check https://intranet.example.com/reports [steps=12]' });
    await waitForEnd(emu, run.id);
    const events = await emu.admin.runEvents(run.id);
    let previous = '';
    for (const event of events) {
      assert.equal(event.run_id, run.id);
      assert.match(event.id, /^[\x21-\x7e]{1,64}$/, 'short printable ASCII id');
      assert.ok(event.id > previous, 'ids strictly increasing as strings');
      previous = event.id;
      assert.ok(!Number.isNaN(Date.parse(event.timestamp)));
      assert.ok(['queued', 'running', 'succeeded'].includes(event.status));
    }
    const steps = events.filter((e) => e.type === 'step');
    assert.equal(steps.length, 12);
    steps.forEach((step, i) => {
      assert.equal(step.step_id, `step_${i + 1}`);
      assert.equal(step.cost_usd, 0.05);
      assert.equal(step.status, 'running');
      assert.ok(step.observation && step.observation.length > 5);
      const action = step.action;
      assert.ok(action);
      assert.ok(['navigate', 'click', 'type', 'scroll', 'key', 'screenshot', 'wait'].includes(action.type));
      if (action.type === 'navigate') assert.match(String(action.url), /^https:\/\//);
      if (action.type === 'click') assert.ok(Number.isInteger(action.x) && Number.isInteger(action.y));
      if (action.type === 'type' || action.type === 'key') assert.equal(typeof action.text, 'string');
    });
    assert.deepEqual(steps[0]?.action, { type: 'navigate', url: 'https://intranet.example.com/reports' });
    const end = events[events.length - 1];
    assert.equal(end?.type, 'succeeded');
    assert.deepEqual(end?.payload, { result: (await emu.admin.run(run.id)).run.result });
  });

  test('a live stream follows the run from queued to the terminal event and ends the response', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 5 } } });
    const blocker = await createRun(emu, { task: 'hold the machine [human@1]' });
    const run = await createRun(emu, { task: 'after the blocker [steps=4]' });
    const stream = await openStream(emu, run.id);
    await stream.waitForText('"type":"queued"');
    assert.ok(!stream.ended);
    await call(emu, `/v1/runs/${blocker.id}/cancel`, { method: 'POST' });
    await stream.done;
    assert.equal(stream.ended, true);
    const truth = await emu.admin.runEvents(run.id);
    assert.deepEqual(eventsOf(stream.text), truth);
    assert.equal(truth.length, 7);
  });

  test('resume with Last-Event-ID from every position gets exactly the rest; after the terminal event 204', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Positions [steps=6] [human@3]' });
    await waitForStatus(emu, run.id, 'awaiting_human');
    await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve', message: 'go' } });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    assert.equal(truth.length, 11);
    for (let i = 0; i < truth.length; i++) {
      const id = truth[i]?.id as string;
      for (const via of ['header', 'query'] as const) {
        const stream = await openStream(
          emu,
          run.id,
          via === 'header' ? { lastEventId: id } : { query: `?last_event_id=${encodeURIComponent(id)}` },
        );
        await stream.done;
        if (i === truth.length - 1) {
          assert.equal(stream.status, 204, `${via} after the terminal event`);
          assert.equal(stream.text, '');
          continue;
        }
        assert.equal(stream.status, 200);
        assert.deepEqual(eventsOf(stream.text), truth.slice(i + 1), `${via} from position ${i}`);
        assert.equal(
          stream.text.replace(/^retry: \d+\n\n/, ''),
          truth
            .slice(i + 1)
            .map(frame)
            .join(''),
        );
      }
    }
    const counters = await emu.admin.counters();
    assert.equal(counters.reconnects_with_last_event_id, truth.length * 2);
  });

  test('the header wins over the query parameter', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [steps=3]' });
    await waitForEnd(emu, run.id);
    const truth = await emu.admin.runEvents(run.id);
    const stream = await openStream(emu, run.id, {
      lastEventId: truth[2]?.id,
      query: `?last_event_id=${truth[0]?.id}`,
    });
    await stream.done;
    assert.deepEqual(eventsOf(stream.text), truth.slice(3));
  });

  test('an id that is not one of this run events is 400, naming header or query', async (t) => {
    const emu = await emulator(t);
    const a = await createRun(emu, { task: 'a [steps=2]' });
    const b = await createRun(emu, { task: 'b [steps=2]', machine_id: 'm-2' });
    await waitForEnd(emu, a.id);
    const otherId = (await emu.admin.runEvents(b.id))[0]?.id as string;
    for (const bad of [otherId, 'garbage', 'evt_999999999999']) {
      const viaHeader = await call(emu, `/v1/runs/${a.id}/events`, { headers: { 'last-event-id': bad } });
      assert.equal(viaHeader.status, 400, bad);
      assert.equal(viaHeader.json.error.type, 'invalid_request');
      assert.equal(viaHeader.json.error.param, 'Last-Event-ID');
      const viaQuery = await call(emu, `/v1/runs/${a.id}/events?last_event_id=${encodeURIComponent(bad)}`);
      assert.equal(viaQuery.status, 400);
      assert.equal(viaQuery.json.error.param, 'last_event_id');
    }
    const empty = await openStream(emu, a.id, { lastEventId: '' });
    await empty.done;
    assert.equal(empty.status, 200, 'an empty Last-Event-ID means from the start');
    assert.equal(eventsOf(empty.text).length, 5);
  });

  test('unknown run is 404; missing key is 401', async (t) => {
    const emu = await emulator(t);
    assert.equal((await call(emu, '/v1/runs/run_none/events')).status, 404);
    assert.equal((await call(emu, '/v1/runs/run_none/events', { key: null })).status, 401);
  });

  test('ready events go out in one write (retry, backlog and end of response together)', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 } } });
    const run = await createRun(emu, { task: 'Batch [steps=40]' });
    await waitForEnd(emu, run.id);
    const before = (await emu.admin.counters()).stream_writes;
    const stream = await openStream(emu, run.id);
    await stream.done;
    assert.equal(eventsOf(stream.text).length, 43);
    assert.equal((await emu.admin.counters()).stream_writes - before, 1);
  });

  test('a pace-0 run with thousands of steps reaches a live reader in few writes', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 } } });
    const blocker = await createRun(emu, { task: 'hold [human@1]' });
    const run = await createRun(emu, { task: 'Many [steps=3000]' });
    const stream = await openStream(emu, run.id);
    await stream.waitForText('"type":"queued"');
    const before = (await emu.admin.counters()).stream_writes;
    await call(emu, `/v1/runs/${blocker.id}/cancel`, { method: 'POST' });
    await stream.done;
    const events = eventsOf(stream.text);
    assert.equal(events.length, 3003);
    assert.deepEqual(events, await emu.admin.runEvents(run.id));
    const writes = (await emu.admin.counters()).stream_writes - before;
    assert.ok(writes < 100, `${writes} writes for 3,002 events`);
  });

  test('back-pressure: a reader that does not read makes the server wait for drain, and nothing is lost', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 } } });
    const run = await createRun(emu, { task: 'Flood [steps=20000]' });
    const stream = await openStream(emu, run.id, { paused: true });
    await waitFor(
      'a back-pressure wait',
      async () => (await emu.admin.counters()).stream_backpressure_waits > 0,
    );
    await waitForEnd(emu, run.id);
    assert.equal((await emu.admin.run(run.id)).open_streams, 1, 'the stream is still open, waiting');
    stream.resume();
    await stream.done;
    const events = eventsOf(stream.text);
    assert.equal(events.length, 20003);
    assert.deepEqual(
      events.map((e) => e.id),
      (await emu.admin.runEvents(run.id)).map((e) => e.id),
    );
  });

  test('a client disconnect is noticed: open_streams goes back to 0', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [human@1]' });
    const streams = await Promise.all([
      openStream(emu, run.id),
      openStream(emu, run.id),
      openStream(emu, run.id),
    ]);
    await waitFor('3 open streams', async () => (await emu.admin.counters()).open_streams === 3);
    for (const s of streams) s.close();
    await waitFor('0 open streams', async () => (await emu.admin.counters()).open_streams === 0);
    const counters = await emu.admin.counters();
    assert.equal(counters.max_open_streams, 3);
    assert.equal(counters.stream_connections, 3);
  });

  test('keepalive comments arrive while the run is quiet, between whole events only', async (t) => {
    const emu = await emulator(t, { config: { stream: { keepaliveMs: 30 } } });
    const run = await createRun(emu, { task: 'Quiet [human@2]' });
    const stream = await openStream(emu, run.id);
    await stream.waitForText(/(: keepalive\n\n[^]*){3}/);
    const blocks = parseBlocks(stream.text);
    assert.ok(blocks.filter((b) => b.comments.includes(': keepalive')).length >= 3);
    for (const block of blocks) {
      if (block.data !== undefined) assert.ok(block.id, 'every data block has an id');
      if (block.comments.length > 0) assert.equal(block.data, undefined, 'keepalive is a block of its own');
    }
    stream.close();
  });

  test('the default keepalive interval is at most 15 s and the config refuses more', async () => {
    const emu = await startEmulator();
    try {
      assert.ok(emu.config.stream.keepaliveMs <= 15000);
    } finally {
      await emu.stop();
    }
    await assert.rejects(startEmulator({ config: { stream: { keepaliveMs: 20000 } } }), /keepaliveMs/);
  });

  test('retry values are jittered per connection and the same for the same seed', async (t) => {
    const retries = async (): Promise<number[]> => {
      const emu = await startEmulator({ config: { seed: 7, agent: { paceMs: 1 } } });
      try {
        const run = await createRun(emu, { task: 'x [steps=1]' });
        await waitForEnd(emu, run.id);
        const values: number[] = [];
        for (let i = 0; i < 8; i++) {
          const stream = await openStream(emu, run.id);
          await stream.done;
          values.push(Number(/^retry: (\d+)/.exec(stream.text)?.[1]));
        }
        return values;
      } finally {
        await emu.stop();
      }
    };
    const first = await retries();
    assert.ok(new Set(first).size > 1, `jittered: ${first.join(',')}`);
    assert.deepEqual(await retries(), first);
    t.diagnostic(`retry values: ${first.join(', ')}`);
  });

  test('open streams are capped per key: 429 with Retry-After; another key still gets in', async (t) => {
    const emu = await emulator(t, { config: { apiKeys: ['other_key'], stream: { maxOpenPerKey: 2 } } });
    const run = await createRun(emu, { task: 'x [human@1]' });
    const a = await openStream(emu, run.id);
    const b = await openStream(emu, run.id);
    await waitFor('2 open', async () => (await emu.admin.counters()).open_streams === 2);
    const refused = await call(emu, `/v1/runs/${run.id}/events`);
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.type, 'rate_limited');
    assert.match(String(refused.headers['retry-after']), /^\d+$/);
    const other = await openStream(emu, run.id, { key: 'other_key' });
    assert.equal(other.status, 200);
    a.close();
    await waitFor('a slot', async () => (await emu.admin.counters()).open_streams === 2);
    const again = await openStream(emu, run.id);
    assert.equal(again.status, 200);
    for (const s of [b, other, again]) s.close();
  });

  test('hundreds of concurrent streams on one run all receive every event', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 2 } } });
    const run = await createRun(emu, { task: 'Broadcast [human@1] [steps=10]' });
    await waitForStatus(emu, run.id, 'awaiting_human');
    const streams = await Promise.all(Array.from({ length: 300 }, () => openStream(emu, run.id)));
    await waitFor('300 open', async () => (await emu.admin.counters()).open_streams === 300);
    await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve' } });
    await Promise.all(streams.map((s) => s.done));
    const truth = await emu.admin.runEvents(run.id);
    for (const s of streams) assert.deepEqual(eventsOf(s.text), truth);
  });
});
