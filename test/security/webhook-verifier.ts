// What a webhook receiver must check before it believes a delivery (docs/api.md, "Webhooks"):
//   Coasty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>
// - the signature, over the raw bytes, compared in constant time (several v1 values may be present
//   while a secret rotates);
// - the timestamp: at most 5 minutes old (or ahead), so a captured request cannot be replayed later;
// - the event id (from the signed body, not the unsigned Coasty-Event-Id header): delivery is at
//   least once, so a retry or a replay inside the window is acknowledged but not processed again.
// The signature and its age are checked by the receiver's own function (api/webhooks.ts
// verifySignature, which serve/webhooks uses); this adds several secrets and the event-id memory.
import { verifySignature, SIGNATURE_HEADER, type SignatureRefusal } from '../../api/webhooks';

export { SIGNATURE_HEADER };

export type WebhookRejection =
  'missing_signature' | 'malformed_signature' | 'stale' | 'bad_signature' | 'bad_body';

const REJECTIONS: Record<SignatureRefusal, WebhookRejection> = {
  missing: 'missing_signature',
  malformed: 'malformed_signature',
  stale: 'stale',
  mismatch: 'bad_signature',
};

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
  /** Unix seconds. */
  now?: () => number;
  /** Event ids remembered for duplicate detection (default 100,000, oldest forgotten first). */
  rememberIds?: number;
}

export class WebhookVerifier {
  readonly #secrets: string[];
  readonly #now: () => number;
  readonly #limit: number;
  readonly #seen = new Set<string>();

  constructor(options: WebhookVerifierOptions) {
    this.#secrets = Array.isArray(options.secret) ? options.secret : [options.secret];
    if (this.#secrets.length === 0 || this.#secrets.some((s) => !s))
      throw new Error('a webhook secret is required');
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#limit = options.rememberIds ?? 100_000;
  }

  /** Throws WebhookVerificationError, or returns the event (flagged duplicate when already seen). */
  verify(rawBody: Buffer | string, headers: Record<string, string | string[] | undefined>): VerifiedDelivery {
    const header = headers[SIGNATURE_HEADER];
    const value = Array.isArray(header) ? header[0] : header;
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody;
    const refusals = this.#secrets.map((secret) => verifySignature(secret, value, body, this.#now() * 1000));
    if (!refusals.includes(undefined)) {
      // A stale one matched a secret; anything else fails alike for every secret.
      const refusal = refusals.includes('stale') ? 'stale' : refusals[0]!;
      throw new WebhookVerificationError(REJECTIONS[refusal], `the delivery is refused: ${refusal}`);
    }
    const timestamp = Number(/t=(\d+)/.exec(value!)![1]);
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
