import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { IDEMPOTENCY_KEY_MAX_LENGTH, idempotencyKeyHeader } from '../../api/idempotency-key';
import { RunsClient } from '../../api/runs-client';
import { json, startServer, type TestServer } from './helpers/http-server';

test('printable ASCII keys are sent byte for byte, as runs already in flight were created with', () => {
  for (const key of [
    'invoice-batch/0a1b2c3d4e5f/run',
    'wf/abc/step/resume/evt_000000000010',
    'odd but ASCII: ~%25 !"#$&\'()*+,;=?@[]^`{|}',
    'x'.repeat(IDEMPOTENCY_KEY_MAX_LENGTH),
  ]) {
    assert.equal(idempotencyKeyHeader(key), key);
  }
});

test('any other character is percent-encoded as UTF-8', () => {
  assert.equal(idempotencyKeyHeader('facture-€-42/abc/run'), 'facture-%E2%82%AC-42/abc/run');
  assert.equal(idempotencyKeyHeader('請求書/🧾'), '%E8%AB%8B%E6%B1%82%E6%9B%B8/%F0%9F%A7%BE');
  assert.equal(idempotencyKeyHeader('tab\there\nnl\x7f'), 'tab%09here%0Anl%7F');
  assert.equal(idempotencyKeyHeader('café'), 'caf%C3%A9');
  assert.equal(idempotencyKeyHeader('lone \ud800'), 'lone %EF%BF%BD');
});

test('a key too long for the API becomes a stable prefix, "~" and the SHA-256 of the whole key', () => {
  const long = `${'a'.repeat(250)}/0a1b2c3d4e5f/run`;
  const header = idempotencyKeyHeader(long);
  assert.ok(header.length <= IDEMPOTENCY_KEY_MAX_LENGTH, `${header.length} characters`);
  assert.equal(header, idempotencyKeyHeader(long), 'the same key gives the same header every time');
  const hash = createHash('sha256').update(long).digest('hex');
  assert.ok(header.endsWith(`~${hash}`), header);
  assert.ok(long.startsWith(header.slice(0, header.indexOf('~'))), 'the prefix is the start of the key');
  assert.notEqual(idempotencyKeyHeader(`${long}x`), header, 'keys that share the prefix stay distinct');
  assert.notEqual(idempotencyKeyHeader(`${long}/resume/evt_1`), idempotencyKeyHeader(`${long}/resume/evt_2`));
  assert.equal(idempotencyKeyHeader('x'.repeat(256)).length, IDEMPOTENCY_KEY_MAX_LENGTH);
});

test('a long key of encoded characters is cut between escapes, never inside one', () => {
  for (let pad = 0; pad < 9; pad++) {
    const header = idempotencyKeyHeader(`${'b'.repeat(pad)}${'€'.repeat(90)}`);
    assert.ok(header.length <= IDEMPOTENCY_KEY_MAX_LENGTH);
    const prefix = header.slice(0, header.indexOf('~'));
    assert.match(prefix, /^b*(%[0-9A-F]{2})*$/, prefix);
    assert.match(header, /^[\x21-\x7e]+$/);
  }
});

describe('RunsClient sends every idempotency key as the encoded header', () => {
  let server: TestServer;
  let client: RunsClient;
  before(async () => {
    server = await startServer((req, res) =>
      json(res, 200, { id: 'run_1', status: 'queued', awaiting_human: null }),
    );
    client = new RunsClient({ baseUrl: server.url, apiKey: 'sk_test_idempotency_0123' });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test('createRun, resumeRun and cancelRun with a non-ASCII key reach the server, encoded', async () => {
    const key = 'facture-€-42/0a1b2c3d4e5f/run';
    await client.createRun({ machine_id: 'm1', task: 't' }, { idempotencyKey: key });
    await client.resumeRun('run_1', { action: 'approve' }, { idempotencyKey: `${key}/resume/evt_1` });
    await client.cancelRun('run_1', { idempotencyKey: `cancel/${key}` });
    assert.deepEqual(
      server.requests.map((request) => request.headers['idempotency-key']),
      [
        'facture-%E2%82%AC-42/0a1b2c3d4e5f/run',
        'facture-%E2%82%AC-42/0a1b2c3d4e5f/run/resume/evt_1',
        'cancel/facture-%E2%82%AC-42/0a1b2c3d4e5f/run',
      ],
    );
  });

  test('a 300-character key arrives within the limit', async () => {
    await client.createRun({ machine_id: 'm1', task: 't' }, { idempotencyKey: 'k'.repeat(300) });
    const sent = server.requests.at(-1)?.headers['idempotency-key'];
    assert.equal(sent, idempotencyKeyHeader('k'.repeat(300)));
    assert.ok(String(sent).length <= IDEMPOTENCY_KEY_MAX_LENGTH);
  });
});
