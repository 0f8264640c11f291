// Secrets are redacted on the raw text the server sent, before it is cut to 200 characters or its
// whitespace collapsed (audit A8): the API key, worker secrets, and their JSON-escaped forms.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { workerSecrets } from '../../activities/secrets';
import { CoastyApiError, QUOTE_LIMIT, networkError } from '../../api/errors';
import { secretForms, secretRedactor } from '../../api/redact';
import { RunsClient } from '../../api/runs-client';
import { json, openEventStream, startServer, type Handler, type TestServer } from './helpers/http-server';

const KEY = 'sk_live_ABCDEFGHIJKLMNOPQRSTUVWX';
const PASSPHRASE = 'correct  horse\tbattery staple';
const QUOTED = 'pa"ss\\word/Ünï';

let server: TestServer | undefined;
let client: RunsClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

async function serve(handler: Handler, env: NodeJS.ProcessEnv = {}): Promise<RunsClient> {
  server = await startServer(handler);
  client = new RunsClient({ baseUrl: server.url, apiKey: KEY });
  return client.withSecrets(workerSecrets(env));
}

async function failure(promise: Promise<unknown>): Promise<CoastyApiError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof CoastyApiError, String(error));
  return error;
}

/** No piece of `secret` of 5+ characters (nor of its whitespace-collapsed form) is in `text`. */
function assertNoPieceOf(secret: string, text: string): void {
  for (const form of [secret, secret.replace(/\s+/g, ' ')]) {
    for (let i = 0; i + 5 <= form.length; i++) {
      const piece = form.slice(i, i + 5);
      assert.ok(!text.includes(piece), `"${piece}" of the secret is in: ${text}`);
    }
  }
}

/** Text that puts `secret` across the QUOTE_LIMIT cut. */
const straddling = (secret: string) => `${'x'.repeat(QUOTE_LIMIT - 6)} ${secret} end`;

test('the API key straddling character 200 of a JSON error message leaves no prefix', async () => {
  const api = await serve((req, res) =>
    json(res, 401, { error: { type: 'unauthorized', message: straddling(`key ${KEY}`) } }),
  );
  const error = await failure(api.getRun('run_1'));
  assertNoPieceOf(KEY, error.message);
  assert.match(error.message, / key \[…/, 'the label, not the key, was cut');
});

test('a worker secret with tabs and double spaces echoed in a 400 is redacted, in the client and the activity', async () => {
  const env = { COASTY_SECRET_PASS: PASSPHRASE };
  const api = await serve(
    (req, res) =>
      json(res, 400, { error: { type: 'invalid_request', message: `task "${PASSPHRASE}" refused` } }),
    env,
  );
  const error = await failure(api.createRun({ machine_id: 'm1', task: 't' }));
  assertNoPieceOf(PASSPHRASE, error.message);
  assert.match(error.message, /task "\[secret PASS\]" refused/);

  // The activities build the redactor from the worker's env themselves, from the plain client.
  const activities = createActivities({ client: client!, env });
  const thrown = await new MockActivityEnvironment()
    .run(() => activities.createRun({ idempotencyKey: 'k/1/run', request: { machine_id: 'm1', task: 't' } }))
    .then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught,
    );
  assert.ok(thrown instanceof ApplicationFailure);
  assertNoPieceOf(PASSPHRASE, thrown.message);
});

test('a non-JSON error body and a non-JSON 200 are redacted before they are cut', async () => {
  const env = { COASTY_SECRET_PASS: PASSPHRASE };
  const api = await serve((req, res) => {
    const [status, which] = (req.url ?? '').split('/').at(-1)!.split('-');
    const body = straddling(which === 'key' ? KEY : PASSPHRASE);
    res.writeHead(Number(status), { 'content-type': 'text/html' }).end(body);
  }, env);
  for (const id of ['502-pass', '502-key', '200-pass', '200-key']) {
    const error = await failure(api.getRun(id));
    assertNoPieceOf(PASSPHRASE, error.message);
    assertNoPieceOf(KEY, error.message);
    assert.match(error.message, /x \[(s|R)…?/, 'the label, not the secret, is where it was cut');
  }
});

test('a protocol error quoting a malformed event redacts the secret near the cut', async () => {
  const env = { COASTY_SECRET_PASS: PASSPHRASE };
  const api = await serve((req, res) => {
    openEventStream(res);
    res.end(`id: e1\ndata: ${straddling(PASSPHRASE)}\n\n`);
  }, env);
  const error = await failure(api.streamEvents('run_1', { maxReconnects: 0 })[Symbol.asyncIterator]().next());
  assert.equal(error.errorType, 'CoastyStreamProtocol');
  assertNoPieceOf(PASSPHRASE, error.message);
  assert.match(error.message, /x \[secr…/, 'the label, not the secret, was cut');
});

test('the JSON-escaped forms of a secret in raw event data are redacted too', async () => {
  const env = { COASTY_SECRET_QUOTED: QUOTED };
  const escaped = JSON.stringify(QUOTED).slice(1, -1); // pa\"ss\\word/Ünï
  const asciiEscaped = escaped.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  for (const form of [escaped, asciiEscaped]) {
    const api = await serve((req, res) => {
      openEventStream(res);
      // Valid JSON without an id: the error quotes the raw data, where the secret is escaped.
      res.end(`data: {"type":"step","action":{"type":"type","text":"${form}"}}\n\n`);
    }, env);
    const error = await failure(
      api.streamEvents('run_1', { maxReconnects: 0 })[Symbol.asyncIterator]().next(),
    );
    assert.ok(!error.message.includes(form), error.message);
    assert.ok(!error.message.includes('ss\\'), error.message);
    assert.match(error.message, /\[secret QUOTED\]/);
    await client!.close();
    await server!.close();
  }
});

test('network error messages are redacted before they are cut', () => {
  const redact = secretRedactor(workerSecrets({ COASTY_SECRET_PASS: PASSPHRASE }));
  const error = networkError('GET /v1/runs', new Error(straddling(PASSPHRASE)), redact);
  assertNoPieceOf(PASSPHRASE, error.message);
});

test('secretForms: the value, JSON.stringify escapes, and ASCII-only escapes', () => {
  assert.deepEqual(secretForms('plain'), ['plain']);
  const forms = secretForms('a"b\tc€/');
  for (const form of [
    'a"b\tc€/',
    'a\\"b\\tc€/',
    'a\\"b\\tc\\u20ac/',
    'a\\"b\\tc\\u20ac\\/',
    'a\\"b\\tc\\u20AC/',
  ])
    assert.ok(forms.includes(form), `${form} in ${JSON.stringify(forms)}`);
});

test('withSecrets shares the sockets: one close ends both clients', async () => {
  const api = await serve((req, res) => json(res, 200, { id: 'run_1', status: 'queued' }));
  await api.getRun('run_1');
  await client!.getRun('run_1');
  await api.close();
  await assert.rejects(
    client!.getRun('run_1'),
    (error: unknown) => (error as { code?: string }).code === 'UND_ERR_DESTROYED',
  );
  assert.equal(String(api), String(client), 'the same API root, and the key never shown');
});
