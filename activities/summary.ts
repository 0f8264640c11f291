import { STEP_COST_CENTS, type Run, type RunEvent, type RunStatus } from '../api/types';
import { usdToCents } from '../core/money';
import type { RunSummary } from './types';

export function emptySummary(runId: string, status: RunStatus = 'queued'): RunSummary {
  return { runId, status, steps: 0, costCents: 0, eventsHandled: 0 };
}

/** Applies one event to `summary` itself (the stream's hot path: no copy per event). */
export function applyEventTo(next: RunSummary, event: RunEvent): RunSummary {
  next.lastEventId = event.id;
  next.eventsHandled += 1;
  switch (event.type) {
    case 'step':
      next.steps += 1;
      next.costCents += STEP_COST_CENTS;
      next.lastStepId = event.step_id;
      next.lastAction = event.action;
      next.status = 'running';
      return next;
    case 'awaiting_human': {
      const payload = event.payload ?? {};
      next.status = 'awaiting_human';
      next.awaiting = {
        requestId: event.id,
        reason: String(payload.reason ?? 'the agent asks for a person'),
        proposedAction: payload.proposed_action === undefined ? undefined : String(payload.proposed_action),
        since: String(payload.requested_at ?? event.timestamp),
      };
      return next;
    }
    case 'running':
    case 'queued':
      next.status = event.type;
      next.awaiting = undefined;
      return next;
    default: {
      const payload = event.payload ?? {};
      next.status = event.type;
      next.awaiting = undefined;
      if (event.type === 'succeeded')
        next.result = payload.result === undefined ? null : String(payload.result);
      if (event.type === 'failed' || event.type === 'timed_out')
        next.error = (payload.error as RunSummary['error']) ?? null;
      return next;
    }
  }
}

/** The summary from the run object, for when the stream ended before we saw its last event. */
export function summaryFromRun(run: Run, known: RunSummary): RunSummary {
  return {
    ...known,
    status: run.status,
    steps: run.steps,
    costCents: usdToCents(run.cost_usd),
    result: run.result,
    error: run.error,
    awaiting: run.status === 'awaiting_human' ? known.awaiting : undefined,
  };
}
