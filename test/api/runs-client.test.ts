import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnexpectedContentTypeError } from '../../api/errors';
import { RunsClient } from '../../api/runs-client';
import type { Run } from '../../api/types';
import { json, startServer, type TestServer } from './helpers/http-server';

const KEY = 'sk_test_client_0123456789';

function run(id: string, status: Run['status'] = 'queued'): Run {
  return {
    id,
    status,
    machine_id: 'm1',
    task: 't',
    cua_version: 'v3',
    max_steps: null,
    deadline_seconds: null,
    on_awaiting_human: 'pause',
    webhook_url: null,
    created_at: '2025-01-01T00:00:00.000Z',
    started_at: null,
    finished_at: null,
    steps: 0,
    cost_usd: 0,
    result: null,
    error: null,
    awaiting_human: null,
  };
}

describe('RunsClient requests', () => {
  let server: TestServer;
  let client: RunsClient;

  before(async () => {
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v1/machines') return json(res, 200, { data: [{ id: 'm1', status: 'idle' }] });
      if (url.pathname === '/v1/runs' && req.method === 'GET')
        return json(res, 200, { data: [run('run_2')], has_more: true });
      if (url.pathname === '/v1/runs/html')
        return res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>portal</h1>');
      const id = /^\/v1\/runs\/([^/]+)/.exec(url.pathname)?.[1];
      json(res, req.method === 'POST' && !id ? 201 : 200, run(id ? decodeURIComponent(id) : 'run_1'));
    });
    client = RunsClient.fromEnv({ COASTY_BASE_URL: `${server.url}/v1/`, COASTY_API_KEY: KEY });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  function last() {
    const request = server.requests.at(-1);
    assert.ok(request);
    return request;
  }

  test('createRun posts JSON with the key and the idempotency key', async () => {
    const created = await client.createRun(
      { machine_id: 'm1', task: 't', max_steps: 3 },
      { idempotencyKey: 'wf-1/step-a' },
    );
    assert.equal(created.id, 'run_1');
    const request = last();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/runs');
    assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    assert.equal(request.headers['idempotency-key'], 'wf-1/step-a');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(request.body), { machine_id: 'm1', task: 't', max_steps: 3 });
  });

  test('getRun encodes the id', async () => {
    const got = await client.getRun('run/1 x');
    assert.equal(got.id, 'run/1 x');
    assert.equal(last().url, '/v1/runs/run%2F1%20x');
    assert.equal(last().method, 'GET');
  });

  test('listRuns sends only the given filters', async () => {
    const list = await client.listRuns({ status: 'running', machine_id: 'm1', limit: 5, after: 'run_9' });
    assert.equal(list.has_more, true);
    assert.equal(list.data[0]?.id, 'run_2');
    assert.equal(last().url, '/v1/runs?status=running&machine_id=m1&limit=5&after=run_9');
    await client.listRuns();
    assert.equal(last().url, '/v1/runs');
  });

  test('cancelRun and resumeRun', async () => {
    await client.cancelRun('run_3', { idempotencyKey: 'c-1' });
    assert.equal(last().url, '/v1/runs/run_3/cancel');
    assert.equal(last().method, 'POST');
    assert.equal(last().headers['idempotency-key'], 'c-1');
    assert.deepEqual(JSON.parse(last().body), {});
    await client.resumeRun('run_3', { action: 'approve', message: 'ok' }, { idempotencyKey: 'r-1' });
    assert.equal(last().url, '/v1/runs/run_3/resume');
    assert.deepEqual(JSON.parse(last().body), { action: 'approve', message: 'ok' });
    assert.equal(last().headers['idempotency-key'], 'r-1');
  });

  test('listMachines returns the machines', async () => {
    assert.deepEqual(await client.listMachines(), [{ id: 'm1', status: 'idle' }]);
  });

  test('a 200 that is not JSON is a retryable UnexpectedContentTypeError', async () => {
    await assert.rejects(client.getRun('html'), (error: unknown) => {
      assert.ok(error instanceof UnexpectedContentTypeError);
      assert.equal(error.retryable, true);
      assert.equal(error.status, 200);
      assert.match(
        error.message,
        /GET \/v1\/runs\/html answered HTTP 200 \(text\/html\) but not JSON: "<h1>portal<\/h1>"/,
      );
      return true;
    });
  });

  test('an aborted request rejects with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    await assert.rejects(
      client.getRun('run_1', { signal: controller.signal }),
      (error: unknown) => error === reason,
    );
  });
});
