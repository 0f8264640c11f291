// The codec's configuration from the environment, shared by the worker, the client and the codec
// server, so that all three encrypt and decrypt with the same keys:
//   COASTY_CODEC_KEY            32 bytes: 64 hex characters, or base64 (`openssl rand -hex 32`)
//   COASTY_CODEC_KEY_ID         the id written into every payload (default: "k-" + 8 hex characters
//                               of the key's SHA-256, so two different keys never share an id)
//   COASTY_CODEC_PREVIOUS_KEYS  older keys still accepted for decryption: "id=key,id=key"
// Without COASTY_CODEC_KEY nothing is encrypted.
import { createHash } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, KEY_BYTES, type CodecKey } from './aes-gcm';

export const CODEC_KEY_VARIABLE = 'COASTY_CODEC_KEY';
export const CODEC_KEY_ID_VARIABLE = 'COASTY_CODEC_KEY_ID';
export const CODEC_PREVIOUS_KEYS_VARIABLE = 'COASTY_CODEC_PREVIOUS_KEYS';

/** A codec setting that cannot work; the message names the variable and never quotes the key. */
export class CodecConfigError extends Error {
  override name = 'CodecConfigError';
}

const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** 64 hex characters or base64 (standard or URL-safe) of exactly 32 bytes. */
export function parseCodecKey(text: string, variable = CODEC_KEY_VARIABLE): Uint8Array {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new CodecConfigError(
    `${variable} must be a ${KEY_BYTES}-byte key written as 64 hex characters or as base64 ` +
      `(got ${value.length} characters that are neither); make one with \`openssl rand -hex 32\``,
  );
}

export function defaultKeyId(key: Uint8Array): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

function keyId(id: string, variable: string): string {
  if (!KEY_ID.test(id)) {
    throw new CodecConfigError(`${variable}: "${id}" is not a key id (1 to 64 of A-Z a-z 0-9 . _ : -)`);
  }
  return id;
}

/** The codec the environment asks for, or undefined when COASTY_CODEC_KEY is not set. */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const keyText = env[CODEC_KEY_VARIABLE];
  if (!keyText) {
    for (const variable of [CODEC_KEY_ID_VARIABLE, CODEC_PREVIOUS_KEYS_VARIABLE]) {
      if (env[variable]) {
        throw new CodecConfigError(
          `${variable} is set but ${CODEC_KEY_VARIABLE} is not: set both, or neither`,
        );
      }
    }
    return undefined;
  }
  const key = parseCodecKey(keyText);
  const current: CodecKey = {
    id: env[CODEC_KEY_ID_VARIABLE]
      ? keyId(env[CODEC_KEY_ID_VARIABLE], CODEC_KEY_ID_VARIABLE)
      : defaultKeyId(key),
    key,
  };
  const previous: CodecKey[] = [];
  for (const [index, entry] of (env[CODEC_PREVIOUS_KEYS_VARIABLE] ?? '').split(',').entries()) {
    if (entry.trim() === '') continue;
    const at = entry.indexOf('=');
    const where = `${CODEC_PREVIOUS_KEYS_VARIABLE} entry ${index + 1}`;
    if (at < 1) throw new CodecConfigError(`${where} must be id=key`);
    const id = keyId(entry.slice(0, at).trim(), where);
    if (id === current.id) throw new CodecConfigError(`${where} reuses the current key id "${id}"`);
    previous.push({ id, key: parseCodecKey(entry.slice(at + 1), where) });
  }
  try {
    return new AesGcmPayloadCodec(current, previous);
  } catch (error) {
    throw new CodecConfigError((error as Error).message);
  }
}

/**
 * The data converter for a worker or a client: `{ payloadCodecs: [codec] }` when COASTY_CODEC_KEY
 * is set, else undefined (Temporal's default). Failure messages and stack traces stay readable
 * (Temporal encodes them only with a failure converter loaded by path into the workflow sandbox);
 * ours never carry secrets or payloads: activities redact them (activities/secrets.ts).
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
