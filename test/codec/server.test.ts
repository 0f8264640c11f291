// The codec server's HTTP contract: what the Web UI and the temporal CLI send, CORS, refusals.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, startCodecServer, type CodecServer } from '../../codec';
import { runCli, spawnCli } from '../cli/helpers';

const UI = 'http://localhost:8233';
const codec = new AesGcmPayloadCodec({ id: 'ui-key', key: randomBytes(32) });
let server: CodecServer;
before(async () => {
  server = await startCodecServer({ codec, origins: [UI] });
});
after(() => server?.stop());

const asJson = (payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('POST /decode turns encrypted payloads back into the originals; /encode the other way', async () => {
  const original = defaultPayloadConverter.toPayload({ task: 'Approve invoice 77' })!;
  const [encrypted] = await codec.encode([original]);
  const decodedRes = await post('/decode', { payloads: [asJson(encrypted!), asJson(original)] });
  assert.equal(decodedRes.status, 200);
  const decoded = (await decodedRes.json()) as {
    payloads: Array<{ metadata: Record<string, string>; data: string }>;
  };
  assert.equal(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), '{"task":"Approve invoice 77"}');
  assert.equal(Buffer.from(decoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
  assert.deepEqual(decoded.payloads[1], asJson(original), 'plain payloads pass through');

  const encodedRes = await post('/encode', { payloads: [asJson(original)] });
  const encoded = (await encodedRes.json()) as { payloads: Array<{ metadata: Record<string, string> }> };
  assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
});

test('CORS: the UI origin may call (preflight included); another origin is refused', async () => {
  const preflight = await fetch(`${server.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
  assert.match(preflight.headers.get('access-control-allow-headers')!, /X-Namespace/i);
  const fromUi = await post('/decode', { payloads: [] }, { origin: UI });
  assert.equal(fromUi.status, 200);
  assert.equal(fromUi.headers.get('access-control-allow-origin'), UI);
  const elsewhere = await post('/decode', { payloads: [] }, { origin: 'https://evil.example' });
  assert.equal(elsewhere.status, 403);
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
});

test('bad requests get a 4xx with a message: not JSON, no payloads, unknown key id, other paths', async () => {
  const notJson = await post('/decode', '{nope');
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { message: string }).message, /not JSON/);
  assert.equal((await post('/decode', { items: [] })).status, 400);
  const stranger = new AesGcmPayloadCodec({ id: 'other-key', key: randomBytes(32) });
  const [foreign] = await stranger.encode([defaultPayloadConverter.toPayload('x')!]);
  const unknownKey = await post('/decode', { payloads: [asJson(foreign!)] });
  assert.equal(unknownKey.status, 400);
  assert.match(((await unknownKey.json()) as { message: string }).message, /key id "other-key"/);
  assert.equal((await fetch(`${server.url}/decode`)).status, 404);
  assert.equal((await post('/elsewhere', { payloads: [] })).status, 404);
});

test('the server listens on 127.0.0.1 by default', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('`coasty-temporal codec-server` serves /decode with the key from the environment; no key is exit 2', async () => {
  const key = randomBytes(32);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COASTY_CODEC_KEY: key.toString('hex'),
    COASTY_CODEC_KEY_ID: 'cli-key',
  };
  delete env.NODE_TEST_CONTEXT;
  const cli = spawnCli(['codec-server', '--port', '0'], { env });
  try {
    const line = await cli.waitForLine(/^Codec server http:\/\/127\.0\.0\.1:\d+/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    const [encrypted] = await new AesGcmPayloadCodec({ id: 'cli-key', key }).encode([
      defaultPayloadConverter.toPayload('hello')!,
    ]);
    const res = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [asJson(encrypted!)] }),
    });
    const body = (await res.json()) as { payloads: Array<{ data: string }> };
    assert.equal(Buffer.from(body.payloads[0]!.data, 'base64').toString(), '"hello"');
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  } finally {
    cli.child.kill('SIGKILL');
  }
  delete env.COASTY_CODEC_KEY;
  const missing = await runCli(['codec-server'], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /COASTY_CODEC_KEY/);
});
