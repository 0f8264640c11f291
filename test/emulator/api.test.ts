import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Machine, Run, RunList } from '../../api/types';
import { call, createRun, emulator, getRun, waitFor, waitForEnd, waitForStatus } from './helpers';

const ENDPOINTS: Array<[string, string, unknown?]> = [
  ['GET', '/v1/machines'],
  ['GET', '/v1/runs'],
  ['POST', '/v1/runs', { machine_id: 'm-1', task: 'x' }],
  ['GET', '/v1/runs/run_x'],
  ['GET', '/v1/runs/run_x/events'],
  ['POST', '/v1/runs/run_x/cancel', {}],
  ['POST', '/v1/runs/run_x/resume', { action: 'approve' }],
];

describe('auth', () => {
  test('every endpoint answers 401 with the documented shape without a key or with a wrong key', async (t) => {
    const emu = await emulator(t);
    for (const [method, path, body] of ENDPOINTS) {
      for (const key of [null, 'wrong_key']) {
        const reply = await call(emu, path, { method, body, key });
        assert.equal(reply.status, 401, `${method} ${path} key=${key}`);
        assert.equal(reply.json.error.type, 'unauthorized');
        assert.equal(typeof reply.json.error.message, 'string');
        assert.equal(reply.headers['www-authenticate'], 'Bearer');
      }
    }
    assert.equal(
      (await call(emu, '/v1/machines', { key: emu.adminKey })).status,
      401,
      'the admin key is not an API key',
    );
    assert.equal(emu.counters().runs_created, 0);
  });

  test('extra keys from the config are accepted', async (t) => {
    const emu = await emulator(t, { apiKey: 'k_main', config: { apiKeys: ['k_second'] } });
    assert.equal((await call(emu, '/v1/machines', { key: 'k_second' })).status, 200);
    assert.equal((await call(emu, '/v1/machines', { key: 'k_main' })).status, 200);
    assert.equal(emu.adminKey, 'k_main_admin');
  });
});

describe('POST /v1/runs', () => {
  test('creates a queued run with every default applied', async (t) => {
    const emu = await emulator(t);
    const reply = await call<Run>(emu, '/v1/runs', { body: { machine_id: 'm-2', task: 'Open the portal' } });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    const run = reply.json;
    assert.match(run.id, /^run_[0-9a-f]{24}$/);
    assert.deepEqual(
      { ...run, id: 'x', created_at: 'x' },
      {
        id: 'x',
        status: 'queued',
        machine_id: 'm-2',
        task: 'Open the portal',
        cua_version: 'v3',
        max_steps: null,
        deadline_seconds: null,
        on_awaiting_human: 'pause',
        webhook_url: null,
        created_at: 'x',
        started_at: null,
        finished_at: null,
        steps: 0,
        cost_usd: 0,
        result: null,
        error: null,
        awaiting_human: null,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(run.created_at)));
  });

  test('echoes every optional field', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, {
      cua_version: 'v2',
      max_steps: 7,
      deadline_seconds: 30,
      on_awaiting_human: 'fail',
      webhook_url: 'http://127.0.0.1:9/hook',
    });
    assert.equal(run.cua_version, 'v2');
    assert.equal(run.max_steps, 7);
    assert.equal(run.deadline_seconds, 30);
    assert.equal(run.on_awaiting_human, 'fail');
    assert.equal(run.webhook_url, 'http://127.0.0.1:9/hook');
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['missing machine_id', { task: 'x' }, 'machine_id'],
    ['machine_id not a string', { machine_id: 1, task: 'x' }, 'machine_id'],
    ['unknown machine_id', { machine_id: 'm-99', task: 'x' }, 'machine_id'],
    ['missing task', { machine_id: 'm-1' }, 'task'],
    ['task not a string', { machine_id: 'm-1', task: ['x'] }, 'task'],
    ['empty task', { machine_id: 'm-1', task: '   ' }, 'task'],
    ['task too long', { machine_id: 'm-1', task: 'a'.repeat(10001) }, 'task'],
    ['bad cua_version', { machine_id: 'm-1', task: 'x', cua_version: 3 }, 'cua_version'],
    ['max_steps 0', { machine_id: 'm-1', task: 'x', max_steps: 0 }, 'max_steps'],
    ['max_steps fraction', { machine_id: 'm-1', task: 'x', max_steps: 1.5 }, 'max_steps'],
    ['max_steps string', { machine_id: 'm-1', task: 'x', max_steps: '5' }, 'max_steps'],
    ['deadline 0', { machine_id: 'm-1', task: 'x', deadline_seconds: 0 }, 'deadline_seconds'],
    ['deadline string', { machine_id: 'm-1', task: 'x', deadline_seconds: '10' }, 'deadline_seconds'],
    ['bad policy', { machine_id: 'm-1', task: 'x', on_awaiting_human: 'wait' }, 'on_awaiting_human'],
    ['bad webhook_url', { machine_id: 'm-1', task: 'x', webhook_url: 'ftp://x' }, 'webhook_url'],
    ['relative webhook_url', { machine_id: 'm-1', task: 'x', webhook_url: '/hook' }, 'webhook_url'],
    ['unknown field', { machine_id: 'm-1', task: 'x', priority: 1 }, 'priority'],
  ];
  for (const [name, body, param] of invalid) {
    test(`400 invalid_request with param ${param}: ${name}`, async (t) => {
      const emu = await emulator(t);
      const reply = await call(emu, '/v1/runs', { body });
      assert.equal(reply.status, 400, reply.text);
      assert.equal(reply.json.error.type, 'invalid_request');
      assert.equal(reply.json.error.param, param);
      assert.ok(reply.json.error.message.length > 0);
      assert.equal(emu.counters().runs_created, 0);
    });
  }

  test('a task of exactly 10,000 characters is accepted (characters, not bytes)', async (t) => {
    const emu = await emulator(t);
    assert.equal((await createRun(emu, { task: 'é'.repeat(10000) })).task.length, 10000);
  });

  test('malformed JSON, a non-object body and an empty body are 400 without param', async (t) => {
    const emu = await emulator(t);
    for (const rawBody of ['{"machine_id":', '[1,2]', '"x"', '']) {
      const reply = await call(emu, '/v1/runs', {
        method: 'POST',
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(reply.status, 400, rawBody);
      assert.equal(reply.json.error.type, 'invalid_request');
      assert.equal(reply.json.error.param, undefined);
    }
  });

  test('a body over 1 MB is 413 payload_too_large; 1 MB exactly is read', async (t) => {
    const emu = await emulator(t);
    const big = JSON.stringify({ machine_id: 'm-1', task: 'x'.repeat(1024 * 1024) });
    const reply = await call(emu, '/v1/runs', {
      method: 'POST',
      rawBody: big,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.error.type, 'payload_too_large');
    const padded = `{"machine_id":"m-1","task":"x"}${' '.repeat(1024 * 1024 - 31)}`;
    assert.equal(Buffer.byteLength(padded), 1024 * 1024);
    const okReply = await call(emu, '/v1/runs', {
      method: 'POST',
      rawBody: padded,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(okReply.status, 200, okReply.text);
  });
});

describe('reading runs', () => {
  test('GET /v1/runs/{id} returns the current run; unknown id is 404 not_found', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Quick one [steps=2]' });
    const done = await waitForEnd(emu, run.id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.steps, 2);
    assert.equal(done.cost_usd, 0.1);
    assert.match(String(done.result), /^Done in 2 steps/);
    assert.ok(done.started_at && done.finished_at);
    const missing = await call(emu, '/v1/runs/run_nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.type, 'not_found');
  });

  test('GET /v1/runs lists newest first with filters and cursor pagination', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 1 } } });
    const created: Run[] = [];
    for (let i = 0; i < 7; i++) {
      created.push(
        await createRun(emu, { machine_id: i % 2 === 0 ? 'm-1' : 'm-2', task: `Task ${i} [human@1]` }),
      );
    }
    const all = await call<RunList>(emu, '/v1/runs');
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.json.data.map((r) => r.id),
      created.map((r) => r.id).reverse(),
    );
    assert.equal(all.json.has_more, false);

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await call<RunList>(emu, `/v1/runs?limit=3${after ? `&after=${after}` : ''}`);
      assert.ok(page.json.data.length <= 3);
      seen.push(...page.json.data.map((r) => r.id));
      if (!page.json.has_more) break;
      after = page.json.data[page.json.data.length - 1]?.id;
    }
    assert.deepEqual(seen, created.map((r) => r.id).reverse());

    const m2 = await call<RunList>(emu, '/v1/runs?machine_id=m-2');
    assert.deepEqual(
      m2.json.data.map((r) => r.id),
      created
        .filter((_, i) => i % 2 === 1)
        .map((r) => r.id)
        .reverse(),
    );
    // One run per machine is paused at step 1, the others wait in the queue.
    await waitFor(
      'two paused runs',
      async () => (await call<RunList>(emu, '/v1/runs?status=awaiting_human')).json.data.length === 2,
    );
    const queued = await call<RunList>(emu, '/v1/runs?status=queued&machine_id=m-1');
    assert.deepEqual(
      queued.json.data.map((r) => r.id),
      [created[6], created[4], created[2]].map((r) => r?.id),
    );
  });

  const badQueries: Array<[string, string]> = [
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['status=done', 'status'],
    ['machine_id=m-9', 'machine_id'],
    ['after=run_nope', 'after'],
  ];
  for (const [query, param] of badQueries) {
    test(`GET /v1/runs?${query} is 400 with param ${param}`, async (t) => {
      const emu = await emulator(t);
      const reply = await call(emu, `/v1/runs?${query}`);
      assert.equal(reply.status, 400);
      assert.equal(reply.json.error.param, param);
    });
  }

  test('limit=100 is allowed and the default limit is 20', async (t) => {
    const emu = await emulator(t);
    for (let i = 0; i < 21; i++)
      await createRun(emu, { task: `t${i} [human@1]`, machine_id: `m-${(i % 4) + 1}` });
    const page = await call<RunList>(emu, '/v1/runs');
    assert.equal(page.json.data.length, 20);
    assert.equal(page.json.has_more, true);
    const big = await call<RunList>(emu, '/v1/runs?limit=100');
    assert.equal(big.json.data.length, 21);
    assert.equal(big.json.has_more, false);
  });
});

describe('GET /v1/machines', () => {
  test('lists m-1..m-4, idle, and busy while a run holds the machine', async (t) => {
    const emu = await emulator(t);
    assert.deepEqual(emu.machines, ['m-1', 'm-2', 'm-3', 'm-4']);
    const idle = await call<{ data: Machine[] }>(emu, '/v1/machines');
    assert.deepEqual(idle.json, { data: emu.machines.map((id) => ({ id, status: 'idle' })) });
    const run = await createRun(emu, { machine_id: 'm-3', task: 'Wait for me [human@1]' });
    await waitForStatus(emu, run.id, 'awaiting_human');
    const busy = await call<{ data: Machine[] }>(emu, '/v1/machines');
    assert.deepEqual(
      busy.json.data.find((m) => m.id === 'm-3'),
      { id: 'm-3', status: 'busy' },
    );
    await call(emu, `/v1/runs/${run.id}/cancel`, { body: {} });
    const after = await call<{ data: Machine[] }>(emu, '/v1/machines');
    assert.equal(after.json.data.find((m) => m.id === 'm-3')?.status, 'idle');
  });

  test('--machines N gives m-1..m-N', async (t) => {
    const emu = await emulator(t, { config: { machines: 2 } });
    assert.deepEqual(emu.machines, ['m-1', 'm-2']);
  });
});

describe('actions', () => {
  test('cancel ends a running run as cancelled; on a terminal run it returns the run unchanged', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Endless [forever]' });
    await waitFor('a step', async () => (await getRun(emu, run.id)).steps > 0);
    const cancelled = await call<Run>(emu, `/v1/runs/${run.id}/cancel`, {
      body: { reason: 'user pressed stop' },
    });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.json.status, 'cancelled');
    assert.ok(cancelled.json.finished_at);
    const events = await emu.admin.runEvents(run.id);
    const last = events[events.length - 1];
    assert.equal(last?.type, 'cancelled');
    assert.deepEqual(last?.payload, { reason: 'user pressed stop' });
    const again = await call<Run>(emu, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, cancelled.json);
    assert.equal((await emu.admin.runEvents(run.id)).length, events.length, 'no second terminal event');
    const steps = (await getRun(emu, run.id)).steps;
    assert.equal(cancelled.json.steps, steps, 'no steps after cancel');
  });

  test('cancel without a body uses a default reason; unknown run is 404; unknown field is 400', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [human@1]' });
    assert.equal((await call(emu, '/v1/runs/run_none/cancel', { method: 'POST' })).status, 404);
    const bad = await call(emu, `/v1/runs/${run.id}/cancel`, { body: { force: true } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'force');
    const ok = await call<Run>(emu, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    assert.equal(ok.json.status, 'cancelled');
    const events = await emu.admin.runEvents(run.id);
    assert.deepEqual(events[events.length - 1]?.payload, { reason: 'cancelled by the client' });
  });

  test('resume is 409 unless awaiting_human, 400 for a bad action, 404 for an unknown run', async (t) => {
    const emu = await emulator(t);
    const paused = await createRun(emu, { task: 'x [human@1]' });
    const queued = await createRun(emu, { task: 'behind the paused run' });
    const running = await createRun(emu, { task: 'busy [forever]', machine_id: 'm-2' });
    const ended = await createRun(emu, { task: 'to be cancelled', machine_id: 'm-3' });
    await call(emu, `/v1/runs/${ended.id}/cancel`, { method: 'POST' });
    await waitForStatus(emu, paused.id, 'awaiting_human');
    await waitForStatus(emu, running.id, 'running');
    for (const run of [queued, running, ended]) {
      const reply = await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve' } });
      assert.equal(reply.status, 409);
      assert.equal(reply.json.error.type, 'conflict');
    }
    for (const body of [
      {},
      { action: 'maybe' },
      { action: 'approve', message: 5 },
      { action: 'approve', extra: 1 },
    ]) {
      const reply = await call(emu, `/v1/runs/${paused.id}/resume`, { body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.json.error.type, 'invalid_request');
      assert.ok(reply.json.error.param);
    }
    assert.equal((await call(emu, `/v1/runs/${paused.id}/resume`, { method: 'POST' })).status, 400);
    assert.equal((await call(emu, '/v1/runs/run_none/resume', { body: { action: 'approve' } })).status, 404);
    assert.equal((await getRun(emu, paused.id)).status, 'awaiting_human', 'bad requests changed nothing');
  });

  test('unknown paths are 404 and wrong methods 405, both after auth', async (t) => {
    const emu = await emulator(t);
    const notFound = await call(emu, '/v1/nothing');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.json.error.type, 'not_found');
    assert.equal((await call(emu, '/elsewhere')).status, 404);
    const wrong = await call(emu, '/v1/runs', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal((await call(emu, '/v1/nothing', { key: null })).status, 401);
  });
});
