// The webhook receiver's rules, apart from HTTP: a delivery is checked (signature over the raw body,
// at most 5 minutes old, a route token only our workers make), handled once per event id, and turned
// into a signal to the run's workflow only when the run's state changed: running, awaiting_human, an
// end. Not per step, and not `queued`: the workflow knows that from creating the run.
import type { MetricMeter } from '@temporalio/common';
import { RUN_STATUSES, type RunStatus } from '../../api/types';
import {
  routedWorkflowId,
  SIGNATURE_TOLERANCE_SECONDS,
  verifySignature,
  type SignatureRefusal,
} from '../../api/webhooks';
import { METRIC_NAMES } from '../../workflows/names';
import type { RunStateChange } from '../../workflows/messages';

export type RefusalReason = SignatureRefusal | 'route' | 'body';
export type DeliveryOutcome = 'signalled' | 'step' | 'queued' | 'duplicate' | 'ended';

export interface Delivery {
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}

export interface DeliveryAnswer {
  status: number;
  body: { ok: true; outcome: DeliveryOutcome } | { error: { code: string; message: string } };
}

/** Sends the signal; resolves `ended` when the workflow no longer runs (nothing left to tell). */
export type SignalRun = (workflowId: string, change: RunStateChange) => Promise<'signalled' | 'ended'>;

export interface ReceiverCounts {
  signalled: number;
  steps: number;
  /** `queued` events: taken, never signalled (creating the run told the workflow). */
  queued: number;
  duplicates: number;
  ended: number;
  refused: Record<RefusalReason, number>;
  /** Signals that failed (Temporal unreachable): answered 503 so that the API delivers again. */
  failed: number;
}

export interface WebhookReceiverOptions {
  secret: string;
  signal: SignalRun;
  /** Counts deliveries and refusals on the SDK's meter, to share the worker's Prometheus endpoint. */
  meter?: MetricMeter;
  now?: () => number;
}

/** Event ids are kept a little longer than a signature stays valid: an older replay is refused as stale. */
const SEEN_FOR_MS = 2 * SIGNATURE_TOLERANCE_SECONDS * 1000;
const MAX_SEEN = 200_000;
const MAX_EVENT_ID_CHARS = 200;

const REFUSALS: Record<RefusalReason, { status: number; message: string }> = {
  missing: { status: 401, message: 'the Coasty-Signature header is missing' },
  malformed: { status: 400, message: 'Coasty-Signature is not of the form t=<unix seconds>,v1=<hex>' },
  stale: {
    status: 401,
    message: `the signature is more than ${SIGNATURE_TOLERANCE_SECONDS / 60} minutes old`,
  },
  mismatch: {
    status: 401,
    message: 'the signature does not match the body (wrong secret, or an altered body)',
  },
  route: {
    status: 403,
    message: 'this URL was not made by a coasty-temporal worker (workflow or token wrong)',
  },
  body: { status: 400, message: 'the body is not a run event: JSON with id, run_id, type, status' },
};

export class WebhookReceiver {
  readonly counts: ReceiverCounts = {
    signalled: 0,
    steps: 0,
    queued: 0,
    duplicates: 0,
    ended: 0,
    failed: 0,
    refused: { missing: 0, malformed: 0, stale: 0, mismatch: 0, route: 0, body: 0 },
  };
  /** Event id -> when it may be forgotten; insertion order is expiry order. */
  readonly #seen = new Map<string, number>();
  /** Deliveries being handled: a duplicate arriving meanwhile gets the same answer. */
  readonly #inFlight = new Map<string, Promise<DeliveryAnswer>>();
  readonly #now: () => number;
  readonly #meter: ReturnType<typeof meterOf>;

  constructor(private readonly options: WebhookReceiverOptions) {
    this.#now = options.now ?? Date.now;
    this.#meter = meterOf(options.meter);
  }

  async handle({ query, headers, rawBody }: Delivery): Promise<DeliveryAnswer> {
    const { secret } = this.options;
    const signatureRefusal = verifySignature(
      secret,
      header(headers, 'coasty-signature'),
      rawBody,
      this.#now(),
    );
    if (signatureRefusal) return this.#refuse(signatureRefusal);
    const workflowId = routedWorkflowId(secret, query);
    if (!workflowId) return this.#refuse('route');
    const event = parseEvent(rawBody);
    const eventId = header(headers, 'coasty-event-id');
    if (!event || (eventId !== undefined && eventId !== event.id)) return this.#refuse('body');

    this.#forgetExpired();
    if (this.#seen.has(event.id)) return this.#answer('duplicate');
    const running = this.#inFlight.get(event.id);
    if (running) return running.then((answer) => (answer.status < 300 ? this.#answer('duplicate') : answer));
    const handling = this.#deliver(workflowId, event).finally(() => this.#inFlight.delete(event.id));
    this.#inFlight.set(event.id, handling);
    return handling;
  }

  async #deliver(workflowId: string, event: ParsedEvent): Promise<DeliveryAnswer> {
    if (event.type === 'step' || event.type === 'queued') {
      this.#remember(event.id);
      return this.#answer(event.type);
    }
    try {
      const outcome = await this.options.signal(workflowId, {
        runId: event.run_id,
        eventId: event.id,
        status: event.status,
      });
      this.#remember(event.id);
      return this.#answer(outcome);
    } catch (error) {
      this.counts.failed += 1;
      this.#meter.deliveries.add(1, { outcome: 'failed' });
      return {
        status: 503,
        body: {
          error: {
            code: 'unavailable',
            message: `could not signal the workflow, deliver again later: ${(error as Error).message}`,
          },
        },
      };
    }
  }

  #answer(outcome: DeliveryOutcome): DeliveryAnswer {
    const key = outcome === 'duplicate' ? 'duplicates' : outcome === 'step' ? 'steps' : outcome;
    this.counts[key] += 1;
    this.#meter.deliveries.add(1, { outcome });
    return { status: 200, body: { ok: true, outcome } };
  }

  #refuse(reason: RefusalReason): DeliveryAnswer {
    this.counts.refused[reason] += 1;
    this.#meter.refused.add(1, { reason });
    const { status, message } = REFUSALS[reason];
    return { status, body: { error: { code: `webhook_${reason}`, message } } };
  }

  #remember(eventId: string): void {
    if (this.#seen.size >= MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(eventId, this.#now() + SEEN_FOR_MS);
  }

  #forgetExpired(): void {
    const now = this.#now();
    for (const [id, until] of this.#seen) {
      if (until > now) break;
      this.#seen.delete(id);
    }
  }
}

interface ParsedEvent {
  id: string;
  run_id: string;
  type: string;
  status: RunStatus;
}

function parseEvent(rawBody: string): ParsedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const event = value as Partial<ParsedEvent> | null;
  if (!event || typeof event !== 'object') return undefined;
  const { id, run_id, type, status } = event;
  const ok =
    typeof id === 'string' &&
    id.length > 0 &&
    id.length <= MAX_EVENT_ID_CHARS &&
    typeof run_id === 'string' &&
    run_id.length > 0 &&
    run_id.length <= MAX_EVENT_ID_CHARS &&
    typeof type === 'string' &&
    typeof status === 'string' &&
    (RUN_STATUSES as readonly string[]).includes(status);
  return ok ? { id, run_id, type, status } : undefined;
}

function header(headers: Delivery['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function meterOf(meter: MetricMeter | undefined) {
  const noop = { add: () => undefined };
  return meter
    ? {
        deliveries: meter.createCounter(METRIC_NAMES.webhookDeliveries, '1', 'Webhook deliveries by outcome'),
        refused: meter.createCounter(
          METRIC_NAMES.webhookRefused,
          '1',
          'Webhook deliveries refused, by reason',
        ),
      }
    : { deliveries: noop, refused: noop };
}
