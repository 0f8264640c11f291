// Optional payload encryption: an AES-256-GCM PayloadCodec. Every payload (workflow and activity
// arguments and results, heartbeat details, signals, queries, memo, and failure messages when the
// failure converter encodes them) is serialized as a Temporal Payload proto and encrypted; the
// server, its database and the Web UI only ever see ciphertext. The layout follows Temporal's
// encryption samples: metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`, data
// `iv (12 bytes) | ciphertext | GCM tag (16 bytes)`. The key id is also the GCM additional data, so a
// payload cannot be passed off as encrypted under another key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { Payload: PayloadProto } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface CodecKey {
  /** Written into every payload it encrypts; names the key, never reveals it. */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** A payload that cannot be decrypted: unknown key id, wrong key, tampered or truncated data. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly encryptWith: CodecKey;
  readonly #keys = new Map<string, Uint8Array>();

  /**
   * @param encryptWith the key new payloads are encrypted with (and decrypted with).
   * @param decryptWith older keys still accepted for decryption (key rotation).
   */
  constructor(encryptWith: CodecKey, decryptWith: CodecKey[] = []) {
    for (const key of [encryptWith, ...decryptWith]) {
      if (key.key.length !== KEY_BYTES) {
        throw new Error(`codec key "${key.id}" must be ${KEY_BYTES} bytes, got ${key.key.length}`);
      }
      if (this.#keys.has(key.id) && key !== encryptWith) {
        throw new Error(`codec key id "${key.id}" is given twice`);
      }
      this.#keys.set(key.id, key.key);
    }
    this.encryptWith = encryptWith;
  }

  /** The ids this codec can decrypt. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encryptOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decryptOne(payload));
  }

  encryptOne(payload: Payload): Payload {
    const { id, key } = this.encryptWith;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(encoder.encode(id));
    const plain = PayloadProto.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA_KEY]: encoder.encode(id),
      },
      data,
    };
  }

  /** Payloads that are not encrypted pass through unchanged (histories written before encryption). */
  decryptOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA_KEY];
    if (!idBytes) {
      throw new PayloadDecryptionError(
        `an encrypted payload has no "${KEY_ID_METADATA_KEY}" metadata: it was not written by this codec`,
      );
    }
    const id = decoder.decode(idBytes);
    const key = this.#keys.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `a payload is encrypted with key id "${id}", which this codec does not have (it has: ${this.keyIds
          .map((k) => `"${k}"`)
          .join(', ')}). Set COASTY_CODEC_KEY and COASTY_CODEC_KEY_ID to that key, or add it to ` +
          'COASTY_CODEC_PREVIOUS_KEYS as id=key.',
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `an encrypted payload (key id "${id}") is truncated: ${data.length} bytes`,
      );
    }
    const iv = data.subarray(0, IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(idBytes);
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key id "${id}" does not decrypt: the key under that id is not the one ` +
          'it was encrypted with, or the payload was altered',
      );
    }
    const decoded = PayloadProto.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }
}
