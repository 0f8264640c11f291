// Contracts between workflows and activities: small, serializable, never a list of events.
import type { CreateRunRequest, RunError, RunStatus, StepAction } from '../api/types';

export interface CreateRunInput {
  /** Idempotency key, identical on every retry and replay: `<workflow id>/<step key>`. */
  idempotencyKey: string;
  /** The request as the workflow knows it: `{{secret.NAME}}` placeholders are still in `task`. */
  request: CreateRunRequest;
  /**
   * Webhook delivery: the run is created with a `webhook_url` to the worker's receiver, routed to
   * this workflow (the URL is made here, from the worker's settings, and never enters history).
   */
  webhook?: true;
}

export interface CreatedRun {
  runId: string;
  status: RunStatus;
}

export interface AwaitingHumanInfo {
  /** The id of the `awaiting_human` event: decisions name the pause they answer by it. */
  requestId: string;
  reason: string;
  proposedAction?: string;
  since: string;
}

/** What a stream attempt knows about its run; heartbeated as the cursor, returned at a pause or the end. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  steps: number;
  costCents: number;
  lastEventId?: string;
  lastStepId?: string;
  lastAction?: StepAction;
  /** Events handled in total over all attempts (exactly once each). */
  eventsHandled: number;
  awaiting?: AwaitingHumanInfo;
  result?: string | null;
  error?: RunError | null;
}

/**
 * The heartbeat details and the result of `streamRun`: the summary plus the ids handled last, so that
 * events a server resends on resume are dropped even though ids are opaque (not comparable).
 */
export interface StreamCursor {
  summary: RunSummary;
  recentIds: string[];
  /** Reconnects inside attempts, summed over attempts and streams of this run. */
  reconnects: number;
  /** Stream attempts that ended in a retry (crash, timeout, outage), summed likewise. */
  retries: number;
}

export interface StreamRunInput {
  runId: string;
  /** Where to resume when no heartbeat exists yet (after a pause: the cursor the last stream returned). */
  from?: StreamCursor;
  /** Return at an `awaiting_human` event (on_awaiting_human: pause); else follow the run to its end. */
  returnOnAwaitingHuman: boolean;
}

export interface ResumeRunInput {
  runId: string;
  action: 'approve' | 'reject';
  message?: string;
  idempotencyKey: string;
  /**
   * `since` of the pause this decision answers (AwaitingHumanInfo.since). With it, a retry (or a
   * 409) first reads the run and sends nothing when the run is no longer at that pause: the first
   * attempt got through, and the run may already wait at a later pause nobody has seen.
   */
  pauseSince?: string;
}
