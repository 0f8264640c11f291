// A workflow's history, event by event, as it grows: long-polls Temporal (waitNewEvent) while the
// execution is open and goes on into the run it continued as new. Reading history adds nothing to it.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
// A CommonJS package: its namespace comes from the default export under Node's ESM.
export const EventType = proto.temporal.api.enums.v1.EventType;

const CLOSE_TYPES = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
]);

export function isCloseEvent(event: HistoryEvent): boolean {
  return CLOSE_TYPES.has(event.eventType!);
}

/** Each event of the execution `runId` and of the runs it continued as new, in order. */
export async function* followHistory(
  client: Client,
  workflowId: string,
  runId: string,
  signal: AbortSignal,
): AsyncGenerator<HistoryEvent & { runId: string }> {
  let current: string | undefined = runId;
  while (current) {
    let nextPageToken: Uint8Array | undefined;
    let seen = 0;
    let next: string | undefined;
    let closed = false;
    while (!closed) {
      signal.throwIfAborted();
      const execution = { workflowId, runId: current };
      // With waitNewEvent the server holds the call until there is news (about 20 s at most).
      const response = await client.withAbortSignal(signal, () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution,
          nextPageToken,
          waitNewEvent: true,
        }),
      );
      for (const event of response.history?.events ?? []) {
        if (Number(event.eventId) <= seen) continue;
        seen = Number(event.eventId);
        yield { ...event, runId: current } as HistoryEvent & { runId: string };
        if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW) {
          next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
          closed = true;
        } else if (isCloseEvent(event)) closed = true;
      }
      nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
    }
    current = next;
  }
}

/** An event's time as ISO-8601. */
export function eventTime(event: HistoryEvent): string {
  const time = event.eventTime;
  if (!time) return new Date(0).toISOString();
  return new Date(Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString();
}
