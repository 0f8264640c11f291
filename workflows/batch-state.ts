// The state of runBatch that continue-as-new carries, and the report built from it. Pure code.
//
// Size: a batch of 10,000 items must fit one payload (2 MB by default) together with its spec,
// both as the continue-as-new input and as the result. So each finished item is a short row
// (status, run id, cents, steps, attempts), result texts are cut to RESULT_CHARS and kept only
// up to RESULT_BUDGET_CHARS in all (`resultsOmitted` counts the others; every item's full result
// stays the result of its child workflow `<batch id>/<item key>`), error messages are cut too.
import type { RunError } from '../api/types';
import type { AgentRunResult } from './agent-run';
import { centsToUsd, usdToCents } from '../core/money';
import { truncate } from '../core/text';
import type { BatchSpec } from './process-types';

export const RESULT_CHARS = 200;
export const RESULT_BUDGET_CHARS = 256 * 1024;
export const ERROR_CHARS = 200;

/** skipped: the item had succeeded in an earlier run of the same batch id (not run again). */
export type ItemStatus = 'succeeded' | 'failed' | 'skipped';

/** [status, run id, cost in cents, steps, attempts, result, error], summed over the attempts. */
export type ItemRow = [ItemStatus, string | null, number, number, number, string | null, RunError | null];

/** An item that failed and waits to be run again (same child id: its previous child failed). */
export interface RetryJob {
  index: number;
  attempt: number;
  costCents: number;
  steps: number;
}

export interface BatchState {
  /** Index of the next item never started. */
  next: number;
  retries: RetryJob[];
  /** By item index; empty until the item is finished. */
  rows: Array<ItemRow | null | undefined>;
  succeeded: number;
  failed: number;
  skipped: number;
  costCents: number;
  /** The budget now (it may have been raised). */
  maxCostCents?: number;
  paused: boolean;
  generation: number;
  maxInFlight: number;
  resultChars: number;
  resultsOmitted: number;
}

export interface BatchItemResult {
  key: string;
  status: ItemStatus | 'pending';
  runId?: string;
  costUsd: number;
  steps: number;
  /** Present when more than one run was made. */
  attempts?: number;
  result?: string;
  error?: RunError;
}

export interface BatchResult {
  name: string;
  total: number;
  succeeded: number;
  failed: number;
  /** Done in an earlier run of this batch id, not run again (cost 0 here). */
  skipped: number;
  costUsd: number;
  items: BatchItemResult[];
  /** Continue-as-new generations the batch went through. */
  generations: number;
  maxInFlight: number;
  /** Items whose result text is not in this report (see RESULT_BUDGET_CHARS). */
  resultsOmitted: number;
}

export function newBatchState(spec: BatchSpec): BatchState {
  return {
    next: 0,
    retries: [],
    rows: [],
    succeeded: 0,
    failed: 0,
    skipped: 0,
    costCents: 0,
    maxCostCents: spec.maxCostCents,
    paused: false,
    generation: 0,
    maxInFlight: 0,
    resultChars: 0,
    resultsOmitted: 0,
  };
}

export function recordDoneBefore(state: BatchState, index: number): void {
  state.rows[index] = ['skipped', null, 0, 0, 0, null, null];
  state.skipped += 1;
}

export function recordSuccess(state: BatchState, job: RetryJob, run: AgentRunResult): void {
  const cents = usdToCents(run.costUsd);
  state.costCents += cents;
  const result = keepResult(state, run.result);
  state.rows[job.index] = [
    'succeeded',
    run.runId,
    job.costCents + cents,
    job.steps + run.steps,
    job.attempt,
    result,
    null,
  ];
  state.succeeded += 1;
}

/** A failed attempt: its cost is spent; the caller decides between a retry and a final failure. */
export function spendFailedAttempt(
  state: BatchState,
  job: RetryJob,
  run: AgentRunResult | undefined,
): RetryJob {
  const cents = run ? usdToCents(run.costUsd) : 0;
  state.costCents += cents;
  return {
    index: job.index,
    attempt: job.attempt,
    costCents: job.costCents + cents,
    steps: job.steps + (run?.steps ?? 0),
  };
}

export function recordFailure(state: BatchState, job: RetryJob, runId: string | null, error: RunError): void {
  const cut = { type: error.type, message: truncate(error.message, ERROR_CHARS) };
  state.rows[job.index] = ['failed', runId, job.costCents, job.steps, job.attempt, null, cut];
  state.failed += 1;
}

function keepResult(state: BatchState, result: string | null): string | null {
  if (result === null) return null;
  const text = truncate(result, RESULT_CHARS);
  if (state.resultChars + text.length > RESULT_BUDGET_CHARS) {
    state.resultsOmitted += 1;
    return null;
  }
  state.resultChars += text.length;
  return text;
}

export function batchResult(spec: BatchSpec, state: BatchState): BatchResult {
  return {
    name: spec.name,
    total: spec.items.length,
    succeeded: state.succeeded,
    failed: state.failed,
    skipped: state.skipped,
    costUsd: centsToUsd(state.costCents),
    items: spec.items.map((item, index) => itemResult(item.key, state.rows[index])),
    generations: state.generation + 1,
    maxInFlight: state.maxInFlight,
    resultsOmitted: state.resultsOmitted,
  };
}

function itemResult(key: string, row: ItemRow | null | undefined): BatchItemResult {
  if (!row) return { key, status: 'pending', costUsd: 0, steps: 0 };
  const [status, runId, cents, steps, attempts, result, error] = row;
  const item: BatchItemResult = { key, status, costUsd: centsToUsd(cents), steps };
  if (runId !== null) item.runId = runId;
  if (attempts > 1) item.attempts = attempts;
  if (result !== null) item.result = result;
  if (error !== null) item.error = error;
  return item;
}
