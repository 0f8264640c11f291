import { ApplicationFailure, Context } from '@temporalio/activity';
import { StreamProtocolError } from '../api/errors';
import type { RunsClient } from '../api/runs-client';
import { isTerminalStatus } from '../api/types';
import { toActivityFailure } from './failures';
import { redactSummary, type Redact } from './secrets';
import { applyEventTo, emptySummary, summaryFromRun } from './summary';
import type { RunSummary, StreamCursor, StreamRunInput } from './types';

/**
 * Ids heartbeated to recognise events a server resends when a later attempt resumes. Inside one
 * attempt every id handled is kept, so a resend of any length is recognised there; across attempts
 * a resend longer than this window is detected (overlongResend) rather than counted twice.
 */
const RECENT_IDS = 32;

/**
 * A server resent more than we can recognise: an id handled before this connection came after
 * events not known to this attempt. Events come in order, so those were older events, applied twice.
 */
function overlongResend(runId: string, id: string, applied: number): StreamProtocolError {
  return new StreamProtocolError({
    message:
      `The event stream of run ${runId} resent, on resume, more events than the ${RECENT_IDS} ids a new stream ` +
      `attempt remembers: event ${id}, handled before, came after ${applied} event(s) this attempt did not know, ` +
      `which were therefore older events counted twice. The API resumes right after Last-Event-ID (docs/api.md); this ` +
      `server does not. Its summary (getRun) has the true steps and cost.`,
  });
}

/**
 * The ids handled in an attempt, each with the order it became known. An id above every id before it
 * (as the API sends them) is new without a lookup, and the lookup map is built only once an id comes
 * that is not: a map of every id had been most of this activity's own CPU per event.
 */
class HandledIds {
  readonly #order: string[] = [];
  #highest = '';
  #positions: Map<string, number> | undefined;

  get size(): number {
    return this.#order.length;
  }

  /** The order `id` became known in, if it was handled before. */
  get(id: string): number | undefined {
    if (id > this.#highest) return undefined;
    this.#positions ??= new Map(this.#order.map((known, position) => [known, position]));
    return this.#positions.get(id);
  }

  add(id: string): void {
    this.#positions?.set(id, this.#order.length);
    this.#order.push(id);
    if (id > this.#highest) this.#highest = id;
  }

  /** The ids that became known last, at most `count`, oldest first. */
  last(count: number): string[] {
    return this.#order.slice(-count);
  }
}

/**
 * Events are heartbeated together, at most this long after the first of them. The SDK would coalesce
 * them too (it sends at most one heartbeat per throttle window), but only after encoding each one:
 * that encoding cost more than reading the event (bench/stream.ts). And the SDK sends an attempt's
 * first heartbeat to the server at once, a write there: a run that ends within this window costs
 * none. A crash loses at most this much more than the throttle window; the events are deduplicated
 * on resume anyway. `watch` reads the heartbeat every 0.5 s (1 s off a terminal): no visible delay.
 */
export const HEARTBEAT_COALESCE_MS = 100;

/** A stream that ended with 204 while its run is still live: retryable, the next attempt resumes. */
export const STREAM_ENDED_EARLY_TYPE = 'CoastyStreamEndedEarly';

/**
 * Follows one run's events (docs/design.md, "Data flow of one run"): resumes from the heartbeated cursor, handles
 * each event once, heartbeats the cursor after new events and on a timer, returns at a pause or the end.
 */
export async function followRun(
  client: RunsClient,
  input: StreamRunInput,
  redact: Redact,
): Promise<StreamCursor> {
  const ctx = Context.current();
  const saved = ctx.info.heartbeatDetails as StreamCursor | undefined;
  const start: StreamCursor = saved ??
    input.from ?? { summary: emptySummary(input.runId), recentIds: [], reconnects: 0, retries: 0 };
  // Counted from the attempt, not the heartbeats: an attempt killed before its first heartbeat counts too.
  const retries = (input.from?.retries ?? 0) + ctx.info.attempt - 1;
  // Ours alone, changed in place per event; heartbeats and the result get redacted copies (redacting
  // there, not per event: a heartbeat carries only the latest texts).
  let summary: RunSummary = { ...start.summary };
  let reconnects = start.reconnects;
  // Every id handled in this attempt (and the heartbeated window), with the order it became known.
  const seen = new HandledIds();
  for (const id of start.recentIds) if (seen.get(id) === undefined) seen.add(id);
  // Ids known before the current connection opened have an order below this.
  let connectionStart = seen.size;
  let appliedOnConnection = 0;
  let trustCursor = true;
  const cursor = (): StreamCursor => ({
    summary: redactSummary({ ...summary }, redact),
    recentIds: seen.last(RECENT_IDS),
    reconnects,
    retries,
  });

  let pending: NodeJS.Timeout | undefined;
  const heartbeat = () => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    ctx.heartbeat(cursor());
  };
  // A retry shows its attempt at once to whoever reads the heartbeat; a first attempt has nothing to save yet.
  if (saved) heartbeat();
  // Quiet streams heartbeat on a timer too, or they time out and never hear a cancellation.
  const intervalMs = Math.max(1000, Math.min(5000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(heartbeat, intervalMs);
  try {
    const events = client.streamEvents(input.runId, {
      lastEventId: summary.lastEventId,
      signal: ctx.cancellationSignal,
      onReconnect: () => {
        reconnects += 1;
        connectionStart = seen.size;
        appliedOnConnection = 0;
      },
    });
    for await (const batch of events.batches()) {
      for (const event of batch) {
        const known = seen.get(event.id);
        if (known !== undefined) {
          if (appliedOnConnection > 0 && known < connectionStart) {
            trustCursor = false; // it counts events twice: not to be resumed from
            throw overlongResend(input.runId, event.id, appliedOnConnection);
          }
          continue;
        }
        seen.add(event.id);
        appliedOnConnection += 1;
        summary = applyEventTo(summary, event);
        if (isTerminalStatus(summary.status)) return cursor();
        if (summary.status === 'awaiting_human' && input.returnOnAwaitingHuman) return cursor();
      }
      pending ??= setTimeout(heartbeat, HEARTBEAT_COALESCE_MS);
    }
    // The stream ended (204) before we saw the end: an earlier attempt handled it but its heartbeat was
    // lost. Only a run that ended (or the pause we know) is trusted; a live run means the 204 was
    // early, and the retry resumes from the cursor.
    const run = await client.getRun(input.runId, { signal: ctx.cancellationSignal });
    const knownPause = run.status === 'awaiting_human' && summary.awaiting !== undefined;
    if (!isTerminalStatus(run.status) && !knownPause) {
      throw ApplicationFailure.create({
        type: STREAM_ENDED_EARLY_TYPE,
        message:
          `The event stream of run ${input.runId} ended (HTTP 204) while the run is ${run.status}` +
          `${run.status === 'awaiting_human' ? ' at a pause this stream never saw' : ''}; the stream is retried from event ` +
          `${summary.lastEventId ?? '(the start)'}.`,
        nonRetryable: false,
      });
    }
    summary = summaryFromRun(run, summary);
    return cursor();
  } catch (error) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    if (trustCursor) heartbeat(); // the latest cursor goes with the failure, so the retry resumes exactly here
    throw toActivityFailure(error, redact, input.runId);
  } finally {
    clearInterval(timer);
    if (pending) clearTimeout(pending);
  }
}
