// Webhook delivery: instead of an open stream, agentRun waits for the receiver's signals about its
// run's state changes, and reads the run object (GET /v1/runs/{id}) before it acts on one: at a pause,
// before it trusts an end, and on a slow timer while nothing arrives, so a lost webhook delays a run
// and never strands it. History grows with state changes, never with steps.
import { condition, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { RunSummary } from '../activities/types';
import { isTerminalStatus, type RunStatus } from '../api/types';
import type { AgentActivities } from './agent-activities';
import { runStateSignal, type RunStateChange } from './messages';

/** How long agentRun waits without a webhook before it reads the run itself. */
export const DEFAULT_RECONCILE_EVERY: Duration = '5m';
/** Signals kept before the run id is known (the API may deliver `queued` before createRun returns). */
const EARLY_SIGNALS = 20;
/** Event ids remembered against duplicates: a run has a handful of state changes, not thousands. */
const SEEN_EVENT_IDS = 200;

export interface RunStateInboxOptions {
  /**
   * Whether a status that does not move on (a late `queued` after `running`) leaves the hint of the
   * same activation alone; before, it replaced it and the run stayed shown queued. Asked only where
   * the two rules differ; agentRun answers with `patched` (workflows/patches.ts).
   */
  forwardOnly(): boolean;
}

/** The signals of one agentRun: each event once, only its own run's, earlier ones kept until it is known. */
export class RunStateInbox {
  #runId: string | undefined;
  #early: RunStateChange[] = [];
  readonly #seen = new Set<string>();
  #readDue = false;
  #hint: RunStatus | undefined;
  /** State changes accepted (each event once). */
  signals = 0;

  constructor(private readonly options: RunStateInboxOptions = { forwardOnly: () => true }) {}

  offer(change: RunStateChange): void {
    if (this.#runId === undefined) {
      if (this.#early.length < EARLY_SIGNALS) this.#early.push(change);
      return;
    }
    if (change.runId !== this.#runId || this.#seen.has(change.eventId)) return;
    if (this.#seen.size >= SEEN_EVENT_IDS) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(change.eventId);
    this.signals += 1;
    if (change.status === 'awaiting_human' || isTerminalStatus(change.status)) this.#readDue = true;
    else if (this.#replacesHint(change.status)) this.#hint = change.status;
  }

  /** A status replaces the hint not yet taken only forward; before the patch, the last one won. */
  #replacesHint(status: RunStatus): boolean {
    const hint = this.#hint;
    if (hint === undefined || hint === status || movesOn(status, hint)) return true;
    return !this.options.forwardOnly();
  }

  follow(runId: string): void {
    this.#runId = runId;
    const early = this.#early;
    this.#early = [];
    for (const change of early) this.offer(change);
  }

  get pending(): boolean {
    return this.#readDue || this.#hint !== undefined;
  }

  /** What arrived since the last call: whether the run must be read, and a status that needs no read. */
  take(): { readDue: boolean; hint: RunStatus | undefined } {
    const taken = { readDue: this.#readDue, hint: this.#hint };
    this.#readDue = false;
    this.#hint = undefined;
    return taken;
  }
}

export function listenForRunState(inbox: RunStateInbox): void {
  setHandler(runStateSignal, (change: RunStateChange) => {
    if (isRunStateChange(change)) inbox.offer(change);
  });
}

export interface WebhookFollowOptions {
  runId: string;
  /** The run's status as the workflow knows it now (after creation, or `running` after a decision). */
  known: RunStatus;
  returnOnAwaitingHuman: boolean;
  reconcileEvery: Duration;
  /** The pause answered last: a read that still shows it (the API not caught up yet) is not a new one. */
  answered?: string;
  /** Told each status the run is known to have (a read, or a signal that moves it on). */
  onStatus(status: RunStatus): void;
}

/** A signal's status is applied only forward (queued, then running): a late delivery never moves it back. */
function movesOn(hint: RunStatus, known: RunStatus): boolean {
  return hint === 'running' && known === 'queued';
}

/**
 * Waits until the run pauses (when it returns at pauses) or ends, as the run object says; each read
 * replaces the summary. Cancellation reaches it in `condition` or in the read, as agentRun expects.
 */
export async function followByWebhook(
  inbox: RunStateInbox,
  readRun: AgentActivities['getRunSummary'],
  { runId, known: from, returnOnAwaitingHuman, reconcileEvery, answered, onStatus }: WebhookFollowOptions,
): Promise<{ summary: RunSummary; reads: number }> {
  let known = from;
  for (let reads = 0; ;) {
    const nudged = await condition(() => inbox.pending, reconcileEvery);
    const { readDue, hint } = inbox.take();
    if (nudged && !readDue) {
      if (hint && movesOn(hint, known)) onStatus((known = hint));
      continue;
    }
    const summary = await readRun({ runId });
    reads += 1;
    if (isTerminalStatus(summary.status)) {
      onStatus(summary.status);
      return { summary, reads };
    }
    const pause = summary.status === 'awaiting_human' ? summary.awaiting : undefined;
    if (pause && pause.requestId === answered) continue;
    onStatus((known = summary.status));
    if (pause && returnOnAwaitingHuman) return { summary, reads };
  }
}

function isRunStateChange(value: unknown): value is RunStateChange {
  const change = value as RunStateChange;
  return (
    typeof change?.runId === 'string' &&
    typeof change.eventId === 'string' &&
    typeof change.status === 'string'
  );
}
