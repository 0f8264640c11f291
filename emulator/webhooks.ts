// Webhook delivery: each event POSTed as its JSON, signed, retried with exponential backoff.
// Events of one run are delivered in order: the next waits until the previous one was
// delivered or given up.
import { createHmac } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { EmulatorConfig } from './config';
import type { CounterState } from './counters';
import type { StoredEvent } from './engine';
import { createPrng, hashSeed, type Prng } from './prng';

interface RunQueue {
  url: string;
  pending: StoredEvent[];
  busy: boolean;
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookDispatcher {
  private readonly queues = new Map<string, RunQueue>();
  // Replaced on reset, so deliveries of forgotten runs stop; aborted for good on stop.
  private stopper = listenedTo(new AbortController());
  private stopped = false;
  // Deliveries at once per receiver origin. A state change is answered only once the receiver has
  // signalled its workflow (tens of ms, seconds when Temporal is loaded), and a run's events wait for
  // each other, so a few slow answers must not hold up every other run's steps: 2,000 runs at a
  // 2 s pace are 1,000 deliveries a second, 10,000 runs 5,000 (bench/fleet.ts). 64 connections kept
  // up at 1,000 runs (pause delivered p99 43 ms) but not at 2,000 on a loaded machine (p99 1.9 s).
  private readonly agent = new Agent({ keepAliveTimeout: 1000, connections: 512 });
  private readonly prng: Prng;

  constructor(
    private readonly config: EmulatorConfig['webhooks'],
    private readonly counters: CounterState,
    seed: number,
  ) {
    this.prng = createPrng(hashSeed(seed, 'webhooks'));
  }

  enqueue(runId: string, url: string, event: StoredEvent): void {
    if (this.stopped) return;
    let queue = this.queues.get(runId);
    if (!queue) {
      queue = { url, pending: [], busy: false };
      this.queues.set(runId, queue);
    }
    queue.pending.push(event);
    if (!queue.busy) void this.pump(runId, queue);
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.pending.length;
    return n;
  }

  reset(): void {
    this.stopper.abort();
    this.stopper = listenedTo(new AbortController());
    this.queues.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopper.abort();
    this.queues.clear();
    await this.agent.destroy().catch(() => undefined);
  }

  private async pump(runId: string, queue: RunQueue): Promise<void> {
    const signal = this.stopper.signal;
    queue.busy = true;
    while (queue.pending.length > 0 && !signal.aborted) {
      await this.deliver(queue.url, queue.pending[0] as StoredEvent, signal);
      queue.pending.shift();
    }
    queue.busy = false;
    if (queue.pending.length === 0 && this.queues.get(runId) === queue) this.queues.delete(runId);
  }

  private async deliver(url: string, event: StoredEvent, signal: AbortSignal): Promise<void> {
    const { maxAttempts } = this.config;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (signal.aborted) return;
      this.counters.webhook_attempts++;
      if (await this.post(url, event, attempt, signal)) {
        this.counters.webhook_deliveries++;
        return;
      }
      if (attempt < maxAttempts) {
        try {
          await sleep(this.backoffMs(attempt), undefined, { signal });
        } catch {
          return;
        }
      }
    }
    this.counters.webhook_failures++;
  }

  private async post(
    url: string,
    event: StoredEvent,
    attempt: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { secret, timeoutMs } = this.config;
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'coasty-emulator',
          'coasty-event-id': event.id,
          'coasty-signature': signWebhook(secret, timestamp, event.json),
          'coasty-delivery-attempt': String(attempt),
        },
        body: event.json,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }

  private backoffMs(attempt: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.config;
    const raw = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(raw * (0.75 + this.prng.next() * 0.5));
  }
}

/** Every delivery in flight listens to the stopper: thousands at once are expected, not a leak. */
function listenedTo(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
