// What a webhook receiver must check before it believes a delivery (docs/api.md, "Webhooks"):
//   Coasty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>
// - the signature, over the raw bytes, compared in constant time (several v1 values may be present
//   while a secret rotates);
// - the timestamp: at most 5 minutes old (or ahead), so a captured request cannot be replayed later;
// - the event id (from the signed body, not the unsigned Coasty-Event-Id header): delivery is at
//   least once, so a retry or a replay inside the window is acknowledged but not processed again.
// The project has no webhook receiver yet (docs/design.md, "Scaling out": a future option);
// this is the reference a receiver should follow, tested against the emulator's signatures.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'coasty-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookRejection =
  'missing_signature' | 'malformed_signature' | 'stale' | 'bad_signature' | 'bad_body';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookRejection,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiedDelivery {
  eventId: string;
  timestamp: number;
  event: Record<string, unknown> & { id: string; type: string };
  /** Seen before (a retry or a replay): acknowledge with 2xx, do not process again. */
  duplicate: boolean;
}

export interface WebhookVerifierOptions {
  /** One secret, or several while rotating. */
  secret: string | string[];
  toleranceSeconds?: number;
  now?: () => number;
  /** Event ids remembered for duplicate detection (default 100,000, oldest forgotten first). */
  rememberIds?: number;
}

export class WebhookVerifier {
  readonly #secrets: string[];
  readonly #tolerance: number;
  readonly #now: () => number;
  readonly #limit: number;
  readonly #seen = new Set<string>();

  constructor(options: WebhookVerifierOptions) {
    this.#secrets = Array.isArray(options.secret) ? options.secret : [options.secret];
    if (this.#secrets.length === 0 || this.#secrets.some((s) => !s))
      throw new Error('a webhook secret is required');
    this.#tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#limit = options.rememberIds ?? 100_000;
  }

  /** Throws WebhookVerificationError, or returns the event (flagged duplicate when already seen). */
  verify(rawBody: Buffer | string, headers: Record<string, string | string[] | undefined>): VerifiedDelivery {
    const header = headers[SIGNATURE_HEADER];
    const value = Array.isArray(header) ? header[0] : header;
    if (!value) throw new WebhookVerificationError('missing_signature', `no ${SIGNATURE_HEADER} header`);
    let timestamp: number | undefined;
    const signatures: Buffer[] = [];
    for (const part of value.split(',')) {
      const at = part.indexOf('=');
      const key = part.slice(0, at).trim();
      const field = part.slice(at + 1).trim();
      if (key === 't' && /^\d{1,12}$/.test(field)) timestamp = Number(field);
      else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(field)) signatures.push(Buffer.from(field, 'hex'));
    }
    if (timestamp === undefined || signatures.length === 0) {
      throw new WebhookVerificationError(
        'malformed_signature',
        `${SIGNATURE_HEADER} must be t=<seconds>,v1=<hex>`,
      );
    }
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody;
    const signed = Buffer.concat([Buffer.from(`${timestamp}.`), body]);
    const valid = this.#secrets.some((secret) => {
      const expected = createHmac('sha256', secret).update(signed).digest();
      return signatures.some((given) => given.length === expected.length && timingSafeEqual(given, expected));
    });
    if (!valid) throw new WebhookVerificationError('bad_signature', 'the signature does not match the body');
    // Only after the signature: an attacker must not learn anything from the timestamp check.
    const age = this.#now() - timestamp;
    if (Math.abs(age) > this.#tolerance) {
      throw new WebhookVerificationError(
        'stale',
        `signed ${Math.round(age)} s ago; the limit is ${this.#tolerance} s`,
      );
    }
    let event: VerifiedDelivery['event'];
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      throw new WebhookVerificationError('bad_body', 'the body is not JSON');
    }
    if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') {
      throw new WebhookVerificationError('bad_body', 'the body is not a run event');
    }
    const duplicate = this.#seen.has(event.id);
    if (!duplicate) {
      this.#seen.add(event.id);
      if (this.#seen.size > this.#limit) this.#seen.delete(this.#seen.values().next().value!);
    }
    return { eventId: event.id, timestamp, event, duplicate };
  }
}
