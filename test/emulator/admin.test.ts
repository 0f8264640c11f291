import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmulatorAdmin, EmulatorAdminError } from '../../emulator/admin-client';
import { call, createRun, emulator, getRun, openStream, waitFor, waitForEnd, waitForStatus } from './helpers';

describe('admin API', () => {
  test('needs its own key: the API key and no key are 401', async (t) => {
    const emu = await emulator(t);
    for (const key of [emu.apiKey, 'nope']) {
      await assert.rejects(new EmulatorAdmin(emu.url, key).counters(), (err: unknown) => {
        assert.ok(err instanceof EmulatorAdminError);
        assert.equal(err.status, 401);
        return true;
      });
    }
    const bare = await fetch(`${emu.url}/_emulator/counters`);
    assert.equal(bare.status, 401);
    assert.equal(((await bare.json()) as { error: { type: string } }).error.type, 'unauthorized');
    assert.equal((await emu.admin.counters()).requests, 0, 'admin calls are not counted as API requests');
  });

  test('scripts are consumed FIFO by the next created runs, or by task match', async (t) => {
    const emu = await emulator(t);
    await emu.admin.script({ steps: 2 }, { steps: 3, result: 'scripted result' });
    await emu.admin.script({ match: 'invoice', flags: 'i', failAt: 1, times: 2 });
    assert.equal((await emu.admin.scripts()).data.length, 3);
    const invoice = await createRun(emu, { task: 'File the INVOICE', machine_id: 'm-1' });
    const a = await createRun(emu, { task: 'first', machine_id: 'm-2' });
    const b = await createRun(emu, { task: 'second', machine_id: 'm-3' });
    const c = await createRun(emu, { task: 'third [steps=1]', machine_id: 'm-4' });
    const invoice2 = await createRun(emu, { task: 'another invoice', machine_id: 'm-1' });
    const done = await Promise.all([invoice, a, b, c, invoice2].map((r) => waitForEnd(emu, r.id)));
    assert.equal(done[0]?.status, 'failed');
    assert.equal(done[1]?.steps, 2);
    assert.equal(done[2]?.steps, 3);
    assert.equal(done[2]?.result, 'scripted result');
    assert.equal(done[3]?.steps, 1, 'no script left: the task rules apply');
    assert.equal(done[4]?.status, 'failed');
    assert.equal((await emu.admin.scripts()).data.length, 0);
    const truth = await emu.admin.run(a.id);
    assert.equal(truth.plan.steps, 2);
    assert.equal(truth.run.id, a.id);
  });

  test('a script can ask for a person, set the pace and be cleared', async (t) => {
    const emu = await emulator(t);
    await emu.admin.script({ humanAt: [1], humanReason: 'Confirm the payment of 1,250.00 EUR', paceMs: 0 });
    await emu.admin.script({ steps: 9 });
    await emu.admin.clearScripts();
    await emu.admin.script({ humanAt: 1, humanReason: 'Confirm the payment of 1,250.00 EUR', paceMs: 0 });
    const run = await createRun(emu, { task: 'Pay' });
    const paused = await waitForStatus(emu, run.id, 'awaiting_human');
    assert.equal(paused.awaiting_human?.reason, 'Confirm the payment of 1,250.00 EUR');
    await assert.rejects(emu.admin.script({ steps: 0 }), /400/);
    await assert.rejects(emu.admin.script({ match: '(' }), /400/);
  });

  test('counters cover runs, replays, billing, streams, reconnects; reset clears everything', async (t) => {
    const emu = await emulator(t);
    const headers = { 'idempotency-key': 'c-1' };
    const run = await createRun(emu, { task: 'Count [steps=3]' }, headers);
    await createRun(emu, { task: 'Count [steps=3]' }, headers);
    await waitForEnd(emu, run.id);
    const events = await emu.admin.runEvents(run.id);
    const stream = await openStream(emu, run.id, { lastEventId: events[1]?.id });
    await stream.done;
    const counters = await emu.admin.counters();
    assert.equal(counters.runs_created, 1);
    assert.equal(counters.idempotent_replays, 1);
    assert.equal(counters.steps_billed, 3);
    assert.equal(counters.cost_usd_billed, 0.15);
    assert.equal(counters.events_emitted, 6);
    assert.equal(counters.stream_connections, 1);
    assert.equal(counters.reconnects_with_last_event_id, 1);
    assert.equal(counters.open_streams, 0);
    assert.deepEqual(Object.keys(counters.machine_max_concurrency), ['m-1', 'm-2', 'm-3', 'm-4']);
    for (const name of [
      'webhook_deliveries',
      'webhook_attempts',
      'rate_limited',
      'max_open_streams',
    ] as const) {
      assert.equal(typeof counters[name], 'number');
    }

    const paused = await createRun(emu, { task: 'Hold [human@1]' });
    const open = await openStream(emu, paused.id);
    await waitForStatus(emu, paused.id, 'awaiting_human');
    await emu.admin.reset();
    await open.done;
    assert.equal((await call(emu, `/v1/runs/${run.id}`)).status, 404, 'runs are gone');
    const after = await emu.admin.counters();
    assert.equal(after.runs_created, 0);
    assert.equal(after.open_streams, 0);
    const fresh = await createRun(emu, { task: 'Fresh [steps=1]' });
    assert.equal((await waitForEnd(emu, fresh.id)).status, 'succeeded', 'machines are free after reset');
    assert.equal((await call(emu, '/v1/runs', {})).json.data.length, 1);
    const replay = await call(emu, '/v1/runs', { body: { machine_id: 'm-1', task: 'other' }, headers });
    assert.equal(replay.status, 200, 'idempotency keys are forgotten');
  });

  test('GET /_emulator/runs/{id}/events is the full list; unknown run 404; unknown route 404', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [steps=2]' });
    await waitForEnd(emu, run.id);
    const events = await emu.admin.runEvents(run.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'running', 'step', 'step', 'succeeded'],
    );
    await assert.rejects(emu.admin.runEvents('run_none'), /404/);
    const res = await fetch(`${emu.url}/_emulator/nothing`, {
      headers: { authorization: `Bearer ${emu.adminKey}` },
    });
    assert.equal(res.status, 404);
    const config = await emu.admin.config();
    assert.equal((config as { seed: number }).seed, 1);
  });

  test('events are kept for the retention period after the run ends, then the run is gone', async (t) => {
    const emu = await emulator(t, { config: { retentionMs: 300 } });
    assert.equal((await emulator(t)).config.retentionMs, 24 * 3600 * 1000, 'default retention is 24 h');
    const run = await createRun(emu, { task: 'x [steps=1]' });
    const live = await createRun(emu, { task: 'y [human@1]', machine_id: 'm-2' });
    const done = await waitForEnd(emu, run.id);
    const finished = Date.parse(String(done.finished_at));
    await waitFor(
      'the run to expire',
      async () => (await call(emu, `/v1/runs/${run.id}`)).status === 404,
      10000,
    );
    assert.ok(Date.now() - finished >= 300, 'not before the retention period');
    assert.equal((await getRun(emu, live.id)).status, 'awaiting_human', 'running runs are kept');
  });
  test('a held run waits at its step with its stream open until released, then goes on', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Hold [steps=6] [hold@3,7]' });
    const stream = await openStream(emu, run.id);
    const [held] = await emu.admin.waitForHolds('the run held at step 3', (h) => h[0]?.open_streams === 1);
    assert.equal(held?.run_id, run.id);
    assert.equal(held?.step, 3);
    assert.equal(held?.task, 'Hold [steps=6] [hold@3,7]');
    const waiting = await getRun(emu, run.id);
    assert.equal(waiting.status, 'running');
    assert.equal(waiting.steps, 2, 'two steps taken, the third waits');
    assert.equal((await emu.admin.release({ match: 'other' })).released, 0, 'match narrows the release');
    assert.deepEqual(await emu.admin.release({ runId: run.id }), { released: 1, run_ids: [run.id] });
    // steps + 1: held after the last step, before the terminal event.
    const [end] = await emu.admin.waitForHolds('the run held before its end', (h) => h[0]?.step === 7);
    assert.equal(end?.run_id, run.id);
    assert.equal((await getRun(emu, run.id)).steps, 6);
    assert.equal((await getRun(emu, run.id)).status, 'running');
    assert.doesNotMatch(stream.text, /"succeeded"/);
    assert.equal((await emu.admin.release()).released, 1);
    const done = await waitForEnd(emu, run.id);
    assert.equal(done.status, 'succeeded');
    assert.match(
      done.result!,
      /^Done in 6 steps: Hold\. Confirmation REF-\d{5}\.$/,
      'no directive in the result',
    );
    await stream.done;
    assert.deepEqual(await emu.admin.holds(), []);
    assert.deepEqual(await emu.admin.release(), { released: 0, run_ids: [] });
  });

  test('key rotation: only the new keys are accepted, the old key loses its open streams', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Rotate [steps=3] [hold@2]' });
    const stream = await openStream(emu, run.id);
    await emu.admin.waitForHolds('the run held with its stream open', (h) => h[0]?.open_streams === 1);
    assert.deepEqual(await emu.admin.setApiKeys(['emu_new_key']), { accepted: 1, streams_closed: 1 });
    await stream.done;
    const refused = await call(emu, `/v1/runs/${run.id}`);
    assert.equal(refused.status, 401);
    assert.equal((await emu.admin.counters()).unauthorized, 1);
    const fresh = await call(emu, `/v1/runs/${run.id}`, { key: 'emu_new_key' });
    assert.equal(fresh.status, 200, 'the run lives on, readable with the new key');
    await assert.rejects(emu.admin.setApiKeys([]), /400/);
    await emu.admin.reset();
    assert.equal((await call(emu, '/v1/runs')).status, 200, 'reset brings back the configured key');
  });

  test('holds come from scripts too; a cancelled held run is no longer held; bad releases are 400', async (t) => {
    const emu = await emulator(t);
    await emu.admin.script({ holdAt: 1, times: 2 });
    const a = await createRun(emu, { task: 'first', machine_id: 'm-1' });
    const b = await createRun(emu, { task: 'second', machine_id: 'm-2' });
    await emu.admin.waitForHolds('both runs held', (h) => h.length === 2);
    assert.equal((await getRun(emu, a.id)).steps, 0);
    const cancel = await call(emu, `/v1/runs/${a.id}/cancel`, { method: 'POST', body: {} });
    assert.equal(cancel.status, 200);
    assert.deepEqual(
      (await emu.admin.holds()).map((h) => h.run_id),
      [b.id],
    );
    await assert.rejects(emu.admin.release({ match: '(' }), /400/);
    const unknownField = await call(emu, '/_emulator/holds/release', {
      body: { run: b.id },
      key: emu.adminKey,
    });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.text, /run/);
    await emu.admin.release();
    assert.equal((await waitForEnd(emu, b.id)).status, 'succeeded');
  });
});
