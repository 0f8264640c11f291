// The emulator refuses every endpoint without a valid key, with the documented 401 shape, without
// echoing what was presented, and without doing anything (no run created, no stream opened).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunsClient } from '../../api/runs-client';
import { UnauthorizedError } from '../../api/errors';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { rawRequest } from '../chaos/scenarios/bad-input';

const API_KEY = 'emu_auth_key_4f1c9b2e77a0';
let emulator: RunningEmulator;
let runId: string;

before(async () => {
  emulator = await startEmulator({ apiKey: API_KEY, config: { agent: { paceMs: 1 } } });
  const client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: API_KEY });
  runId = (await client.createRun({ machine_id: 'm-1', task: 'A run to aim at [steps=2]' })).id;
  await client.close();
});
after(() => emulator?.stop());

const endpoints = (id: string): Array<[string, string, string?]> => [
  ['GET', '/v1/machines'],
  ['POST', '/v1/runs', JSON.stringify({ machine_id: 'm-1', task: 'unauthorized [steps=1]' })],
  ['GET', '/v1/runs'],
  ['GET', `/v1/runs/${id}`],
  ['GET', `/v1/runs/${id}/events`],
  ['POST', `/v1/runs/${id}/cancel`, '{}'],
  ['POST', `/v1/runs/${id}/resume`, JSON.stringify({ action: 'approve' })],
  ['GET', '/v1/runs/run_does_not_exist'],
  ['GET', '/v1/no-such-endpoint'],
  ['DELETE', '/v1/runs'],
];

const credentials = (): Array<[string, Record<string, string>]> => [
  ['no Authorization header', {}],
  ['an empty bearer', { authorization: 'Bearer ' }],
  ['a wrong key', { authorization: 'Bearer emu_wrong_key_000000' }],
  ['the key with one character changed', { authorization: `Bearer ${API_KEY.slice(0, -1)}1` }],
  ['a prefix of the key', { authorization: `Bearer ${API_KEY.slice(0, 8)}` }],
  ['the key as Basic auth', { authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}` }],
  ['the key without a scheme', { authorization: API_KEY }],
  ['the key in another header', { 'x-api-key': API_KEY }],
  ['the admin key', { authorization: `Bearer ${emulator.adminKey}` }],
];

test('every endpoint answers 401 {error: {type: unauthorized}} to every bad credential', async () => {
  const before = await emulator.admin.counters();
  let checked = 0;
  for (const [method, path, body] of endpoints(runId)) {
    for (const [what, headers] of credentials()) {
      const answer = await rawRequest(`${emulator.url}${path}`, {
        method,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
      });
      const where = `${method} ${path} with ${what}`;
      assert.equal(answer.status, 401, where);
      assert.match(answer.contentType, /^application\/json/, where);
      const parsed = JSON.parse(answer.text) as { error: { type: string; message: string } };
      assert.equal(parsed.error.type, 'unauthorized', where);
      assert.ok(parsed.error.message.length > 0, where);
      assert.ok(!answer.text.includes(API_KEY.slice(0, 8)), `${where}: the answer echoes no key`);
      checked++;
    }
  }
  assert.equal(checked, endpoints(runId).length * credentials().length);
  const afterCounters = await emulator.admin.counters();
  assert.equal(afterCounters.runs_created, before.runs_created, 'no run was created');
  assert.equal(afterCounters.stream_connections, before.stream_connections, 'no stream was opened');
  assert.equal(afterCounters.idempotent_replays, before.idempotent_replays);
  assert.notEqual((await emulator.admin.run(runId)).run.status, 'cancelled', 'the cancel did nothing');
});

test('the key in the query string is not accepted', async () => {
  const answer = await rawRequest(`${emulator.url}/v1/runs?api_key=${API_KEY}&key=${API_KEY}`, {});
  assert.equal(answer.status, 401);
});

test('the admin API refuses the API key and no key', async () => {
  for (const headers of [{}, { authorization: `Bearer ${API_KEY}` }] as Array<Record<string, string>>) {
    const answer = await rawRequest(`${emulator.url}/_emulator/counters`, { headers });
    assert.equal(answer.status, 401);
    assert.equal((JSON.parse(answer.text) as { error: { type: string } }).error.type, 'unauthorized');
  }
});

test('the client turns a 401 into a non-retryable UnauthorizedError that does not quote the key', async () => {
  const wrongKey = 'emu_wrong_key_for_the_client_123';
  const client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: wrongKey });
  try {
    await assert.rejects(client.getRun(runId), (error: unknown) => {
      assert.ok(error instanceof UnauthorizedError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /COASTY_API_KEY/);
      assert.ok(!error.message.includes(wrongKey));
      return true;
    });
  } finally {
    await client.close();
  }
});
