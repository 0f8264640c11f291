// Beyond loopback, serve and the codec server refuse to start without tokens; the codec server then
// checks Authorization on every request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, startCodecServer } from '../../codec';
import { CodecServerConfigError } from '../../codec/server';
import { startServe, ServeConfigError } from '../../serve';
import { runCli } from '../cli/helpers';
import { testServerAddress } from '../helpers/temporal';

const codec = new AesGcmPayloadCodec({ id: 'k', key: randomBytes(32) });
const TOKEN = randomBytes(16).toString('hex');

test('serve on another host without operator tokens refuses to start; with tokens it starts', async () => {
  const connection = await Connection.connect({ address: testServerAddress() });
  const client = new Client({ connection });
  try {
    await assert.rejects(
      startServe({ client, host: '0.0.0.0', port: 0, env: {} }),
      (error: Error) => error instanceof ServeConfigError && /COASTY_SERVE_TOKENS/.test(error.message),
    );
    await assert.rejects(
      startServe({ client, port: 0, env: { COASTY_SERVE_TOKENS: 'ops=short' } }),
      /entry 1: the token of "ops" has 5 characters; use at least 16/,
    );
    const serve = await startServe({
      client,
      host: '0.0.0.0',
      port: 0,
      env: { COASTY_SERVE_TOKENS: `ops=${TOKEN}` },
    });
    try {
      const response = await fetch(new URL('/api/inbox', `http://127.0.0.1:${serve.port}/`));
      assert.equal(response.status, 401);
    } finally {
      await serve.stop();
    }
  } finally {
    await connection.close();
  }
});

test('the codec server beyond loopback needs a token, and then checks Authorization on every request', async () => {
  await assert.rejects(startCodecServer({ codec, host: '0.0.0.0' }), CodecServerConfigError);
  const cli = await runCli(['codec-server', '--host', '0.0.0.0', '--port', '0'], {
    env: {
      ...process.env,
      COASTY_CODEC_KEY: randomBytes(32).toString('base64'),
      COASTY_CODEC_SERVER_TOKEN: '',
    },
  });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /COASTY_CODEC_SERVER_TOKEN/);

  const server = await startCodecServer({ codec, host: '0.0.0.0', port: 0, token: TOKEN });
  try {
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload('hello')!]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(encrypted!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(encrypted!.data ?? []).toString('base64'),
        },
      ],
    });
    const decode = (authorization?: string) =>
      fetch(`http://127.0.0.1:${server.port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
    assert.equal((await decode()).status, 401);
    assert.equal((await decode(`Bearer ${TOKEN}x`)).status, 401);
    const ok = await decode(`Bearer ${TOKEN}`);
    assert.equal(ok.status, 200);
    const decoded = (await ok.json()) as { payloads: Array<{ data: string }> };
    assert.equal(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), '"hello"');
  } finally {
    await server.stop();
  }
});
