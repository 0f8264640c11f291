// Request size limits hold at their edges: 1 MB bodies (413 above, whether declared, chunked or
// announced huge), 10,000-character tasks (400 param task above; characters, not bytes), and the
// client maps them to non-retryable typed errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { RunsClient } from '../../api/runs-client';
import { InvalidRequestError, PayloadTooLargeError } from '../../api/errors';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { rawRequest } from '../chaos/scenarios/bad-input';

const MB = 1024 * 1024;
let emulator: RunningEmulator;
let client: RunsClient;

before(async () => {
  emulator = await startEmulator({ config: { agent: { paceMs: 1 } } });
  client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
});
after(async () => {
  await client?.close();
  await emulator?.stop();
});

function create(body: string, options: { chunked?: boolean } = {}) {
  return rawRequest(`${emulator.url}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    body,
    chunked: options.chunked,
  });
}

/** A valid create body padded with whitespace to exactly `bytes`. */
function paddedBody(bytes: number): string {
  const json = JSON.stringify({ machine_id: 'm-1', task: 'Padded [steps=1]' });
  return json.slice(0, -1) + ' '.repeat(bytes - Buffer.byteLength(json)) + '}';
}

const errorOf = (text: string) => (JSON.parse(text) as { error: { type: string; param?: string } }).error;

test('a body of exactly 1 MB is accepted; one byte more is 413 payload_too_large', async () => {
  const atLimit = await create(paddedBody(MB));
  assert.equal(atLimit.status, 200, atLimit.text.slice(0, 200));
  const over = await create(paddedBody(MB + 1));
  assert.equal(over.status, 413);
  assert.equal(errorOf(over.text).type, 'payload_too_large');
});

test('413 also without Content-Length (chunked), and at once for a body announced as 100 MB', async () => {
  const chunked = await create(paddedBody(3 * MB), { chunked: true });
  assert.equal(chunked.status, 413);
  const announced = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      `${emulator.url}/v1/runs`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${emulator.apiKey}`,
          'content-type': 'application/json',
          'content-length': String(100 * MB),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.write('{"machine_id":"m-1",');
  });
  assert.equal(announced, 413, 'refused before 100 MB were sent');
});

test('a task of 10,000 characters is accepted; 10,001 is 400 with param task', async () => {
  assert.equal((await create(JSON.stringify({ machine_id: 'm-1', task: 't'.repeat(10_000) }))).status, 200);
  const over = await create(JSON.stringify({ machine_id: 'm-1', task: 't'.repeat(10_001) }));
  assert.equal(over.status, 400);
  assert.deepEqual(
    { type: errorOf(over.text).type, param: errorOf(over.text).param },
    { type: 'invalid_request', param: 'task' },
  );
});

test('the task limit counts characters, not bytes or UTF-16 units', async () => {
  const emoji = '\u{1F9FE}'; // 4 bytes in UTF-8, 2 UTF-16 units
  assert.equal((await create(JSON.stringify({ machine_id: 'm-1', task: emoji.repeat(10_000) }))).status, 200);
  const over = await create(JSON.stringify({ machine_id: 'm-1', task: emoji.repeat(10_001) }));
  assert.equal(over.status, 400);
  assert.equal(errorOf(over.text).param, 'task');
});

test('a resume message above 10,000 characters is 400 with param message', async () => {
  const run = await client.createRun({ machine_id: 'm-2', task: 'Pause [steps=3] [human@1]' });
  const answer = await rawRequest(`${emulator.url}/v1/runs/${run.id}/resume`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'approve', message: 'm'.repeat(10_001) }),
  });
  assert.equal(answer.status, 400);
  assert.equal(errorOf(answer.text).param, 'message');
});

test('the client maps both limits to non-retryable typed errors', async () => {
  await assert.rejects(
    client.createRun({ machine_id: 'm-3', task: 'x'.repeat(2 * MB) }),
    (error: unknown) => error instanceof PayloadTooLargeError && !error.retryable,
  );
  await assert.rejects(
    client.createRun({ machine_id: 'm-3', task: 'x'.repeat(10_001) }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'task' && !error.retryable,
  );
});
