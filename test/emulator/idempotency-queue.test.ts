import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Machine, Run } from '../../api/types';
import { call, createRun, emulator, getRun, waitFor, waitForEnd, waitForStatus } from './helpers';

describe('idempotency keys', () => {
  test('same key, same body: the first response, no second run, no second bill', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 } } });
    const body = { machine_id: 'm-1', task: 'Pay the invoice [steps=3]' };
    const headers = { 'idempotency-key': 'wf-1/step-a' };
    const first = await call<Run>(emu, '/v1/runs', { body, headers });
    assert.equal(first.status, 200);
    await waitForEnd(emu, first.json.id);
    const second = await call<Run>(emu, '/v1/runs', {
      body: { task: body.task, machine_id: 'm-1' },
      headers,
    });
    assert.equal(second.status, 200);
    assert.equal(second.text, first.text, 'byte-identical replay, key order of the body does not matter');
    assert.equal(second.headers['idempotent-replayed'], 'true');
    const counters = await emu.admin.counters();
    assert.equal(counters.runs_created, 1);
    assert.equal(counters.idempotent_replays, 1);
    assert.equal(counters.steps_billed, 3);
    assert.equal((await call(emu, '/v1/runs')).json.data.length, 1);
  });

  test('same key, other body: 409 conflict; another key or another API key is a new request', async (t) => {
    const emu = await emulator(t, { config: { apiKeys: ['second_key'] } });
    const headers = { 'idempotency-key': 'k1' };
    await call(emu, '/v1/runs', { body: { machine_id: 'm-1', task: 'A [human@1]' }, headers });
    const clash = await call(emu, '/v1/runs', { body: { machine_id: 'm-1', task: 'B' }, headers });
    assert.equal(clash.status, 409);
    assert.equal(clash.json.error.type, 'conflict');
    assert.equal(clash.json.error.param, 'Idempotency-Key');
    const other = await call(emu, '/v1/runs', {
      body: { machine_id: 'm-1', task: 'B' },
      headers: { 'idempotency-key': 'k2' },
    });
    assert.equal(other.status, 200);
    const otherAccount = await call(emu, '/v1/runs', {
      body: { machine_id: 'm-1', task: 'B' },
      headers,
      key: 'second_key',
    });
    assert.equal(otherAccount.status, 200);
    const counters = await emu.admin.counters();
    assert.equal(counters.runs_created, 3);
    assert.equal(counters.idempotency_conflicts, 1);
  });

  test('a failed validation is not remembered: the key can be used again with a fixed body', async (t) => {
    const emu = await emulator(t);
    const headers = { 'idempotency-key': 'fix-me' };
    assert.equal(
      (await call(emu, '/v1/runs', { body: { machine_id: 'm-9', task: 'x' }, headers })).status,
      400,
    );
    assert.equal(
      (await call(emu, '/v1/runs', { body: { machine_id: 'm-1', task: 'x' }, headers })).status,
      200,
    );
  });

  test('resume and cancel honour keys: a retried approve is replayed, not a 409', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [human@1] [human@2]' });
    await waitForStatus(emu, run.id, 'awaiting_human');
    const headers = { 'idempotency-key': `${run.id}/approve/1` };
    const body = { action: 'approve', message: 'ok' };
    const first = await call(emu, `/v1/runs/${run.id}/resume`, { body, headers });
    assert.equal(first.status, 200);
    const retry = await call(emu, `/v1/runs/${run.id}/resume`, { body, headers });
    assert.equal(retry.status, 200);
    assert.equal(retry.text, first.text);
    await waitFor('second pause', async () => {
      const events = await emu.admin.runEvents(run.id);
      return events.filter((e) => e.type === 'awaiting_human').length === 2;
    });
    const approvals = (await emu.admin.runEvents(run.id)).filter((e) => e.payload?.resumed_by === 'approve');
    assert.equal(approvals.length, 1, 'the retried approve did not approve the second pause');
    const wrongBody = await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'reject' }, headers });
    assert.equal(wrongBody.status, 409);
    const cancelHeaders = { 'idempotency-key': `${run.id}/cancel` };
    const c1 = await call(emu, `/v1/runs/${run.id}/cancel`, { method: 'POST', headers: cancelHeaders });
    const c2 = await call(emu, `/v1/runs/${run.id}/cancel`, { method: 'POST', headers: cancelHeaders });
    assert.equal(c1.text, c2.text);
    assert.equal(c2.headers['idempotent-replayed'], 'true');
  });

  test('concurrent creates with one key make one run', async (t) => {
    const emu = await emulator(t);
    const body = { machine_id: 'm-2', task: 'race' };
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        call<Run>(emu, '/v1/runs', { body, headers: { 'idempotency-key': 'race' } }),
      ),
    );
    assert.equal(new Set(replies.map((r) => r.json.id)).size, 1);
    assert.equal((await emu.admin.counters()).runs_created, 1);
  });

  test('an over-long key is 400 with param Idempotency-Key', async (t) => {
    const emu = await emulator(t);
    const reply = await call(emu, '/v1/runs', {
      body: { machine_id: 'm-1', task: 'x' },
      headers: { 'idempotency-key': 'k'.repeat(256) },
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.param, 'Idempotency-Key');
  });
});

describe('per-machine FIFO queue', () => {
  test('runs for a busy machine stay queued and start in order, one at a time', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 2 } } });
    const first = await createRun(emu, { task: 'first [human@2]' });
    await waitForStatus(emu, first.id, 'awaiting_human');
    const queued = [];
    for (let i = 0; i < 4; i++) queued.push(await createRun(emu, { task: `next ${i} [steps=3]` }));
    const elsewhere = await createRun(emu, { task: 'other machine [steps=2]', machine_id: 'm-2' });
    assert.equal((await waitForEnd(emu, elsewhere.id)).status, 'succeeded', 'other machines are not blocked');
    for (const run of queued) {
      const current = await getRun(emu, run.id);
      assert.equal(current.status, 'queued');
      assert.equal(current.started_at, null);
    }
    const machines = (await call<{ data: Machine[] }>(emu, '/v1/machines')).json.data;
    assert.equal(machines.find((m) => m.id === 'm-1')?.status, 'busy');
    await call(emu, `/v1/runs/${first.id}/resume`, { body: { action: 'approve' } });
    const done = await Promise.all(queued.map((r) => waitForEnd(emu, r.id)));
    const firstDone = await getRun(emu, first.id);
    const spans = [firstDone, ...done].map(
      (r) => [Date.parse(String(r.started_at)), Date.parse(String(r.finished_at))] as const,
    );
    for (let i = 1; i < spans.length; i++) {
      assert.ok(
        (spans[i]?.[0] ?? 0) >= (spans[i - 1]?.[1] ?? 0),
        `run ${i} started after run ${i - 1} finished`,
      );
    }
    // Event order is the strict proof: each run's running event comes after the previous run's terminal event.
    const order = await Promise.all([first, ...queued].map(async (r) => emu.admin.runEvents(r.id)));
    for (let i = 1; i < order.length; i++) {
      const startId = order[i]?.find((e) => e.type === 'running')?.id ?? '';
      const prevEnd = order[i - 1]?.[(order[i - 1]?.length ?? 1) - 1]?.id ?? '';
      assert.ok(startId > prevEnd);
    }
    const counters = await emu.admin.counters();
    assert.equal(counters.machine_max_concurrency['m-1'], 1);
    assert.equal(counters.machine_max_concurrency['m-2'], 1);
    assert.equal(counters.machine_max_concurrency['m-3'], 0);
  });

  test('cancelling a queued run removes it from the queue; it never starts', async (t) => {
    const emu = await emulator(t);
    const first = await createRun(emu, { task: 'hold [human@1]' });
    const victim = await createRun(emu, { task: 'victim' });
    const next = await createRun(emu, { task: 'next [steps=1]' });
    const cancelled = await call<Run>(emu, `/v1/runs/${victim.id}/cancel`, { method: 'POST' });
    assert.equal(cancelled.json.status, 'cancelled');
    assert.equal(cancelled.json.started_at, null);
    await call(emu, `/v1/runs/${first.id}/cancel`, { method: 'POST' });
    assert.equal((await waitForEnd(emu, next.id)).status, 'succeeded');
    const types = (await emu.admin.runEvents(victim.id)).map((e) => e.type);
    assert.deepEqual(types, ['queued', 'cancelled']);
  });

  test('many runs on few machines: each machine runs one at a time, all finish', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 }, machines: 3 } });
    const runs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        createRun(emu, { task: `bulk ${i} [steps=5]`, machine_id: `m-${(i % 3) + 1}` }),
      ),
    );
    const done = await Promise.all(runs.map((r) => waitForEnd(emu, r.id)));
    assert.ok(done.every((r) => r.status === 'succeeded'));
    const counters = await emu.admin.counters();
    assert.deepEqual(counters.machine_max_concurrency, { 'm-1': 1, 'm-2': 1, 'm-3': 1 });
    assert.equal(counters.steps_billed, 150);
  });
});
