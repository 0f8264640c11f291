// The AES-256-GCM payload codec and its configuration from the environment (no server needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  CodecConfigError,
  codecFromEnv,
  dataConverterFromEnv,
  defaultKeyId,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  parseCodecKey,
  PayloadDecryptionError,
} from '../../codec';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const keyHex = randomBytes(32).toString('hex');

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value)!;
}

test('encode encrypts each payload; decode gives back the exact payload', async () => {
  const codec = new AesGcmPayloadCodec({ id: 'k1', key: randomBytes(32) });
  const originals = [
    payloadOf({ task: 'Pay invoice 4711 to ACME' }),
    payloadOf(null),
    payloadOf('x'.repeat(100_000)),
  ];
  const encoded = await codec.encode(originals);
  for (const payload of encoded) {
    assert.equal(text(payload.metadata![METADATA_ENCODING_KEY]), ENCRYPTED_ENCODING);
    assert.equal(text(payload.metadata![KEY_ID_METADATA_KEY]), 'k1');
    assert.ok(!text(payload.data).includes('ACME'));
    assert.ok(!text(payload.data).includes('json/plain'), 'the inner metadata is encrypted too');
  }
  const decoded = await codec.decode(encoded);
  assert.deepEqual(
    decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
    [{ task: 'Pay invoice 4711 to ACME' }, null, 'x'.repeat(100_000)],
  );
  assert.equal(text(decoded[0]!.metadata![METADATA_ENCODING_KEY]), 'json/plain');
});

test('the same payload encrypts differently each time (a fresh IV per payload)', async () => {
  const codec = new AesGcmPayloadCodec({ id: 'k1', key: randomBytes(32) });
  const [a, b] = await codec.encode([payloadOf('same'), payloadOf('same')]);
  assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
});

test('payloads that are not encrypted pass through decode unchanged', async () => {
  const codec = new AesGcmPayloadCodec({ id: 'k1', key: randomBytes(32) });
  const plain = payloadOf({ old: 'history' });
  assert.deepEqual(await codec.decode([plain]), [plain]);
});

test('decode refuses an unknown key id, naming it and the ids it has', async () => {
  const writer = new AesGcmPayloadCodec({ id: 'old-key', key: randomBytes(32) });
  const reader = new AesGcmPayloadCodec({ id: 'new-key', key: randomBytes(32) });
  const encoded = await writer.encode([payloadOf('secret')]);
  await assert.rejects(reader.decode(encoded), (error: Error) => {
    assert.ok(error instanceof PayloadDecryptionError);
    assert.match(error.message, /key id "old-key", which this codec does not have \(it has: "new-key"\)/);
    assert.match(error.message, /COASTY_CODEC_PREVIOUS_KEYS/);
    return true;
  });
});

test('decode refuses a tampered payload, a wrong key under a known id, and a swapped key id', async () => {
  const key = randomBytes(32);
  // The same key under two ids: only the authenticated key id tells them apart.
  const codec = new AesGcmPayloadCodec({ id: 'k1', key }, [{ id: 'k0', key }]);
  const [encoded] = await codec.encode([payloadOf('amount: 100 USD')]);
  const flipped = Buffer.from(encoded!.data!);
  flipped[20] = flipped[20]! ^ 1;
  await assert.rejects(codec.decode([{ ...encoded!, data: flipped }]), /does not decrypt/);
  const impostor = new AesGcmPayloadCodec({ id: 'k1', key: randomBytes(32) });
  await assert.rejects(impostor.decode([encoded!]), /does not decrypt/);
  const relabelled = {
    ...encoded!,
    metadata: { ...encoded!.metadata, [KEY_ID_METADATA_KEY]: Buffer.from('k0') },
  };
  await assert.rejects(codec.decode([relabelled]), /does not decrypt/, 'the key id is authenticated');
  await assert.rejects(codec.decode([{ ...encoded!, data: flipped.subarray(0, 10) }]), /truncated/);
});

test('keys: 64 hex characters or base64 of 32 bytes; anything else is a clear error that hides the value', () => {
  const raw = randomBytes(32);
  assert.deepEqual(Buffer.from(parseCodecKey(raw.toString('hex'))), raw);
  assert.deepEqual(Buffer.from(parseCodecKey(raw.toString('base64'))), raw);
  assert.deepEqual(Buffer.from(parseCodecKey(raw.toString('base64url'))), raw);
  for (const bad of [
    'abc',
    raw.toString('hex').slice(2),
    randomBytes(16).toString('base64'),
    'not a key at all!',
  ]) {
    assert.throws(
      () => parseCodecKey(bad),
      (error: Error) =>
        error instanceof CodecConfigError &&
        /COASTY_CODEC_KEY must be a 32-byte key/.test(error.message) &&
        !error.message.includes(bad),
    );
  }
});

test('from the environment: nothing without a key; key id, default id and previous keys', async () => {
  assert.equal(codecFromEnv({}), undefined);
  assert.equal(dataConverterFromEnv({}), undefined);
  assert.throws(
    () => codecFromEnv({ COASTY_CODEC_KEY_ID: 'k1' }),
    /COASTY_CODEC_KEY_ID is set but COASTY_CODEC_KEY is not/,
  );
  assert.throws(
    () => codecFromEnv({ COASTY_CODEC_KEY: keyHex, COASTY_CODEC_KEY_ID: 'no spaces' }),
    /not a key id/,
  );

  const withDefaultId = codecFromEnv({ COASTY_CODEC_KEY: keyHex })!;
  assert.equal(withDefaultId.encryptWith.id, defaultKeyId(Buffer.from(keyHex, 'hex')));
  assert.match(withDefaultId.encryptWith.id, /^k-[0-9a-f]{8}$/);

  const oldKey = randomBytes(32);
  const old = new AesGcmPayloadCodec({ id: '2025-q4', key: oldKey });
  const rotated = codecFromEnv({
    COASTY_CODEC_KEY: keyHex,
    COASTY_CODEC_KEY_ID: '2026-q1',
    COASTY_CODEC_PREVIOUS_KEYS: `2025-q4=${oldKey.toString('base64')}`,
  })!;
  assert.deepEqual(rotated.keyIds, ['2026-q1', '2025-q4']);
  const [fromOld] = await rotated.decode(await old.encode([payloadOf('written last year')]));
  assert.equal(defaultPayloadConverter.fromPayload(fromOld!), 'written last year');
  const [fresh] = await rotated.encode([payloadOf('new')]);
  assert.equal(text(fresh!.metadata![KEY_ID_METADATA_KEY]), '2026-q1', 'new payloads use the current key');
  assert.throws(
    () => codecFromEnv({ COASTY_CODEC_KEY: keyHex, COASTY_CODEC_PREVIOUS_KEYS: 'just-a-key' }),
    /COASTY_CODEC_PREVIOUS_KEYS entry 1 must be id=key/,
  );

  const converter = dataConverterFromEnv({ COASTY_CODEC_KEY: keyHex, COASTY_CODEC_KEY_ID: 'k1' })!;
  assert.equal(converter.payloadCodecs!.length, 1);
  assert.ok(converter.payloadCodecs![0] instanceof AesGcmPayloadCodec);
});
