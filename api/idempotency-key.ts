// The Idempotency-Key header for any key: exactly-once rests on the same key giving the same bytes.
import { createHash } from 'node:crypto';

/** The API's limit on Idempotency-Key (docs/api.md; the emulator refuses longer keys with a 400). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** Hex characters of SHA-256 kept in a shortened key: all 64, so two long keys never share one. */
const HASH_HEX_LENGTH = 64;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Each UTF-8 byte of `char` as %XX (a lone surrogate becomes U+FFFD, as TextEncoder does). */
function percentEncode(char: string): string {
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * `key` as a header value the API accepts: printable ASCII kept byte for byte (keys of runs already
 * in flight stay the same); any other character percent-encoded as UTF-8; a result longer than
 * IDEMPOTENCY_KEY_MAX_LENGTH becomes its start + `~` + the SHA-256 (hex) of the whole key.
 * Deterministic: the same key always gives the same header.
 */
export function idempotencyKeyHeader(key: string): string {
  let encoded = key;
  if (!PRINTABLE_ASCII.test(key)) {
    encoded = '';
    for (const char of key) encoded += PRINTABLE_ASCII.test(char) ? char : percentEncode(char);
  }
  if (encoded.length <= IDEMPOTENCY_KEY_MAX_LENGTH) return encoded;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, HASH_HEX_LENGTH);
  let prefix = encoded.slice(0, IDEMPOTENCY_KEY_MAX_LENGTH - 1 - HASH_HEX_LENGTH);
  // Never end the readable part inside a %XX: it stays a valid percent-encoding.
  const cut = prefix.lastIndexOf('%');
  if (cut !== -1 && cut > prefix.length - 3) prefix = prefix.slice(0, cut);
  return `${prefix}~${hash}`;
}
