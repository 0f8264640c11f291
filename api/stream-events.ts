// Follows one run's event stream across dropped connections (see api/README.md, "Streaming").
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs, sleep, type ReconnectPolicy } from './backoff';
import {
  CoastyApiError,
  NetworkError,
  RateLimitedError,
  ServerError,
  StreamProtocolError,
  networkError,
  quoteBody,
} from './errors';
import { SseReader } from './sse';
import type { RunEvent } from './types';

/** What one connection gave: 204 (`finished`) or a 200 text/event-stream body. */
export type EventStreamResponse =
  | { finished: true }
  | { finished: false; body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown } };

/**
 * Opens one connection. Throws typed errors: NetworkError for transport failures, the status's
 * class for non-2xx, UnexpectedContentTypeError for a 200 that is not text/event-stream.
 */
export interface EventStreamTransport {
  open(runId: string, lastEventId: string, signal: AbortSignal | undefined): Promise<EventStreamResponse>;
  /** Strips secrets from text the server sent, before it goes into an error message. */
  redact(text: string): string;
}

export interface StreamStats {
  /** Connections that opened a stream (200 text/event-stream). */
  connections: number;
  /** Reconnects after a failure (a drop, a network error, a 429 or 5xx). */
  reconnects: number;
  /** Body bytes received. */
  bytes: number;
  /** Events handed out (a whole batch counts, even if its consumer stops inside it). */
  events: number;
}

export interface ReconnectInfo {
  runId: string;
  /** Failures in a row, this one included (1 = first). */
  attempt: number;
  delayMs: number;
  /** Sent as Last-Event-ID on the reconnect ("" = none). */
  lastEventId: string;
  error: CoastyApiError;
  stats: Readonly<StreamStats>;
}

export interface StreamEventsOptions {
  /** Resume after this event (the cursor a previous attempt heartbeated). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Shorthand for `reconnect.maxAttempts`. */
  maxReconnects?: number;
  reconnect?: Partial<ReconnectPolicy>;
  onReconnect?(info: ReconnectInfo): void;
}

/** The same as `client.streamEvents(runId, options)`, over any transport. */
export function streamEvents(
  transport: EventStreamTransport,
  runId: string,
  options: StreamEventsOptions = {},
): RunEventStream {
  return new RunEventStream(transport, runId, options);
}

/** Events that arrived together, with the id to resume after each (SSE id, else the event's own). */
type EventBatch = RunEvent[] & { ids: string[] };

function isTerminalType(type: string): boolean {
  return type === 'succeeded' || type === 'failed' || type === 'cancelled' || type === 'timed_out';
}

function isReconnectable(error: CoastyApiError): boolean {
  return error instanceof NetworkError || error instanceof ServerError || error instanceof RateLimitedError;
}

/**
 * An async iterable of one run's events, once. It ends after a terminal event or a 204, yields
 * what the server sends (duplicates after a resume included: deduplicate by `event.id`), and
 * reconnects by itself with Last-Event-ID after a drop.
 */
export class RunEventStream implements AsyncIterable<RunEvent> {
  readonly runId: string;
  readonly stats: StreamStats = { connections: 0, reconnects: 0, bytes: 0, events: 0 };
  readonly #transport: EventStreamTransport;
  readonly #signal: AbortSignal | undefined;
  readonly #policy: ReconnectPolicy;
  readonly #onReconnect: StreamEventsOptions['onReconnect'];
  readonly #reader: SseReader;
  #cursor: string;
  #retryHintMs: number | undefined;
  #started = false;
  #terminal = false;
  #malformed: StreamProtocolError | undefined;
  #events: RunEvent[] = [];
  #eventIds: string[] = [];

  constructor(transport: EventStreamTransport, runId: string, options: StreamEventsOptions = {}) {
    this.runId = runId;
    this.#transport = transport;
    this.#signal = options.signal;
    this.#policy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
    if (options.maxReconnects !== undefined) this.#policy.maxAttempts = options.maxReconnects;
    this.#onReconnect = options.onReconnect;
    this.#cursor = options.lastEventId ?? '';
    this.#reader = new SseReader(
      {
        onEvent: (data, sseId) => this.#accept(data, sseId),
        onRetry: (ms) => {
          this.#retryHintMs = ms;
        },
        onOverflow: (error) => {
          this.#malformed ??= this.#protocolError(
            '',
            `${error.message}; a single event that large is not a run event`,
          );
        },
      },
      { lastEventId: this.#cursor },
    );
  }

  /**
   * Where to resume after the last event this iterator yielded: the SSE last event id, or the
   * event's own `id` when the stream carries no SSE ids. This is what to heartbeat.
   */
  get lastEventId(): string {
    return this.#cursor;
  }

  /** The server's last valid `retry:` hint, in ms. */
  get retryHintMs(): number | undefined {
    return this.#retryHintMs;
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    return this.#eachEvent(this.#start());
  }

  /**
   * The same events, as arrays of those that arrived together (one read from the socket): a consumer
   * that handles many events saves an await per event. `lastEventId` is after the batch's last event.
   * The stream is consumed once, by this or by iterating it.
   */
  batches(): AsyncIterable<readonly RunEvent[]> {
    const iterator = this.#start();
    return { [Symbol.asyncIterator]: () => iterator };
  }

  #start(): AsyncGenerator<EventBatch, void, undefined> {
    if (this.#started) throw new Error(`The event stream of run ${this.runId} can be iterated only once.`);
    this.#started = true;
    return this.#run();
  }

  async *#eachEvent(
    batches: AsyncGenerator<EventBatch, void, undefined>,
  ): AsyncGenerator<RunEvent, void, undefined> {
    for await (const batch of batches) {
      const ids = batch.ids;
      for (let i = 0; i < batch.length; i++) {
        if (this.#signal?.aborted) throw this.#signal.reason;
        this.#cursor = ids[i] as string;
        yield batch[i] as RunEvent;
      }
    }
  }

  #accept(data: string, sseId: string): void {
    if (this.#terminal || this.#malformed) return;
    let event: RunEvent;
    try {
      event = JSON.parse(data);
    } catch {
      this.#malformed = this.#protocolError(
        sseId,
        `event data is not JSON: "${quoteBody(this.#transport.redact(data))}"`,
      );
      return;
    }
    if (
      event === null ||
      typeof event !== 'object' ||
      typeof event.id !== 'string' ||
      event.id === '' ||
      typeof event.type !== 'string'
    ) {
      this.#malformed = this.#protocolError(
        sseId,
        `event without a string "id" and "type": "${quoteBody(this.#transport.redact(data))}"`,
      );
      return;
    }
    this.#events.push(event);
    this.#eventIds.push(sseId === '' ? event.id : sseId);
    if (isTerminalType(event.type)) this.#terminal = true;
  }

  /** The events parsed so far, handed over whole: the next ones go into fresh arrays. */
  #takeBatch(): EventBatch {
    const batch = this.#events as EventBatch;
    batch.ids = this.#eventIds;
    this.#events = [];
    this.#eventIds = [];
    return batch;
  }

  #protocolError(sseId: string, what: string): StreamProtocolError {
    const at = sseId ? ` at event id ${sseId}` : '';
    return new StreamProtocolError({
      message: `The event stream of run ${this.runId} is malformed${at}: ${what}. This is a server fault; retrying would read the same bytes.`,
    });
  }

  #resumeId(): string {
    return this.#reader.lastEventId || this.#cursor;
  }

  async *#run(): AsyncGenerator<EventBatch, void, undefined> {
    const signal = this.#signal;
    const policy = this.#policy;
    let failures = 0;
    let streakStartedAt = 0;
    for (;;) {
      let failure: CoastyApiError;
      let healthy = false;
      let openedAt = 0;
      try {
        const response = await this.#transport.open(this.runId, this.#resumeId(), signal);
        if (response.finished) return;
        this.stats.connections++;
        openedAt = performance.now();
        const body = response.body;
        this.#reader.startConnection();
        try {
          for await (const chunk of body) {
            this.stats.bytes += chunk.length;
            this.#reader.feed(chunk);
            if (this.#events.length !== 0) {
              healthy = true;
              if (signal?.aborted) throw signal.reason;
              const batch = this.#takeBatch();
              this.#cursor = batch.ids[batch.length - 1] as string;
              this.stats.events += batch.length;
              yield batch;
              if (this.#terminal) return;
            }
            if (this.#malformed) throw this.#malformed;
            this.#cursor = this.#reader.lastEventId || this.#cursor;
          }
          this.#reader.endConnection();
          failure = new NetworkError({
            message: `The event stream of run ${this.runId} ended before a terminal event`,
          });
        } finally {
          this.#events = [];
          this.#eventIds = [];
          body.destroy();
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof CoastyApiError) {
          if (!isReconnectable(error)) throw error;
          failure = error;
        } else if (typeof (error as { code?: unknown } | null)?.code === 'string') {
          failure = networkError(
            `The event stream of run ${this.runId} failed`,
            error,
            this.#transport.redact,
          );
        } else {
          throw error;
        }
      }

      if (healthy || (openedAt !== 0 && performance.now() - openedAt >= policy.healthyAfterMs)) failures = 0;
      failures++;
      const now = performance.now();
      if (failures === 1) streakStartedAt = now;
      const delayMs = reconnectDelayMs(
        failures,
        this.#retryHintMs ?? policy.initialDelayMs,
        policy,
        failure.retryAfterMs,
      );
      if (
        failures > policy.maxAttempts ||
        (failures > 1 && now - streakStartedAt + delayMs > policy.maxElapsedMs)
      ) {
        throw this.#giveUp(failure, failures - 1, now - streakStartedAt);
      }
      this.stats.reconnects++;
      this.#onReconnect?.({
        runId: this.runId,
        attempt: failures,
        delayMs,
        lastEventId: this.#resumeId(),
        error: failure,
        stats: { ...this.stats },
      });
      await sleep(delayMs, signal);
    }
  }

  #giveUp(last: CoastyApiError, reconnects: number, elapsedMs: number): CoastyApiError {
    if (!(last instanceof NetworkError)) return last;
    const resume = this.#resumeId() ? ` Resume from event ${this.#resumeId()}.` : '';
    return new NetworkError({
      message:
        `The event stream of run ${this.runId} is unavailable: ${reconnects} reconnect(s) in a row failed ` +
        `over ${Math.round(elapsedMs / 1000)} s (last: ${last.message})${resume}`,
      cause: last,
    });
  }
}
