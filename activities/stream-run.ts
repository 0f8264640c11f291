import { Context } from '@temporalio/activity';
import type { RunsClient } from '../api/runs-client';
import { isTerminalStatus } from '../api/types';
import { toActivityFailure } from './failures';
import { redactSummary, type Redact } from './secrets';
import { applyEventTo, emptySummary, summaryFromRun } from './summary';
import type { RunSummary, StreamCursor, StreamRunInput } from './types';

/** Ids kept to recognise events a server resends on resume; more than any sane resend window. */
const RECENT_IDS = 32;
/**
 * Events are heartbeated together, at most this long after the first of them. The SDK would coalesce
 * them too (it sends at most one heartbeat per throttle window), but only after encoding each one:
 * that encoding cost more than reading the event (bench/stream.ts). And the SDK sends an attempt's
 * first heartbeat to the server at once, a write there: a run that ends within this window costs
 * none. A crash loses at most this much more than the throttle window; the events are deduplicated
 * on resume anyway. `watch` reads the heartbeat every 0.5 s (1 s off a terminal): no visible delay.
 */
export const HEARTBEAT_COALESCE_MS = 100;

/**
 * Follows one run's events (DESIGN.md "The heart"): resumes from the heartbeated cursor, handles
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
  // Ours alone, changed in place per event; heartbeats and the result get copies.
  let summary: RunSummary = { ...start.summary };
  let reconnects = start.reconnects;
  const recent = [...start.recentIds];
  const seen = new Set(recent);
  const cursor = (): StreamCursor => ({
    summary: { ...summary },
    recentIds: recent.slice(),
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
      },
    });
    for await (const batch of events.batches()) {
      for (const event of batch) {
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        recent.push(event.id);
        if (recent.length > RECENT_IDS) seen.delete(recent.shift()!);
        summary = redactSummary(applyEventTo(summary, event), redact);
        if (isTerminalStatus(summary.status)) return cursor();
        if (summary.status === 'awaiting_human' && input.returnOnAwaitingHuman) return cursor();
      }
      pending ??= setTimeout(heartbeat, HEARTBEAT_COALESCE_MS);
    }
    // The stream ended (204) before we saw the end: an earlier attempt handled it but its heartbeat was lost.
    const run = await client.getRun(input.runId, { signal: ctx.cancellationSignal });
    summary = redactSummary(summaryFromRun(run, summary), redact);
    return cursor();
  } catch (error) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    heartbeat(); // the latest cursor goes with the failure, so the retry resumes exactly here
    throw toActivityFailure(error, redact);
  } finally {
    clearInterval(timer);
    if (pending) clearTimeout(pending);
  }
}
