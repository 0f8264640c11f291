import { Context } from '@temporalio/activity';
import type { RunsClient } from '../api/runs-client';
import { isTerminalStatus } from '../api/types';
import { toActivityFailure } from './failures';
import { redactSummary, type Redact } from './secrets';
import { applyEvent, emptySummary, summaryFromRun } from './summary';
import type { StreamCursor, StreamRunInput } from './types';

/** Ids kept to recognise events a server resends on resume; more than any sane resend window. */
const RECENT_IDS = 32;

/**
 * Follows one run's events (DESIGN.md "The heart"): resumes from the heartbeated cursor, handles
 * each event once, heartbeats after every event and on a timer, returns at a pause or the end.
 */
export async function followRun(
  client: RunsClient,
  input: StreamRunInput,
  redact: Redact,
): Promise<StreamCursor> {
  const ctx = Context.current();
  const saved = ctx.info.heartbeatDetails as StreamCursor | undefined;
  let cursor: StreamCursor = saved
    ? { ...saved, retries: saved.retries + 1 }
    : (input.from ?? { summary: emptySummary(input.runId), recentIds: [], reconnects: 0, retries: 0 });
  ctx.heartbeat(cursor);

  const recent = [...cursor.recentIds];
  const seen = new Set(recent);
  // Quiet streams heartbeat on a timer too, or they time out and never hear a cancellation.
  const intervalMs = Math.max(1000, Math.min(5000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => ctx.heartbeat(cursor), intervalMs);
  let reconnects = cursor.reconnects;
  try {
    const events = client.streamEvents(input.runId, {
      lastEventId: cursor.summary.lastEventId,
      signal: ctx.cancellationSignal,
      onReconnect: () => {
        reconnects += 1;
      },
    });
    for await (const event of events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      recent.push(event.id);
      if (recent.length > RECENT_IDS) seen.delete(recent.shift()!);
      const summary = redactSummary(applyEvent(cursor.summary, event), redact);
      cursor = { summary, recentIds: recent.slice(), reconnects, retries: cursor.retries };
      ctx.heartbeat(cursor);
      if (isTerminalStatus(summary.status)) return cursor;
      if (summary.status === 'awaiting_human' && input.returnOnAwaitingHuman) return cursor;
    }
    // The stream ended (204) before we saw the end: an earlier attempt handled it but its heartbeat was lost.
    const run = await client.getRun(input.runId, { signal: ctx.cancellationSignal });
    return { ...cursor, summary: redactSummary(summaryFromRun(run, cursor.summary), redact), reconnects };
  } catch (error) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    cursor = { ...cursor, reconnects };
    ctx.heartbeat(cursor);
    throw toActivityFailure(error, redact);
  } finally {
    clearInterval(timer);
  }
}
