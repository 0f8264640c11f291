// What the programmatic client throws when a process cannot do what was asked. Each carries the facts
// (ids, status); the CLI (client/commands/process-errors.ts) and serve (serve/http-errors.ts) turn them
// into their own words: sentences with exit codes, HTTP statuses.
import type { BudgetWait } from '../workflows/messages';
import type { Pause } from './pause';

export abstract class ProcessError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly workflowId: string,
  ) {
    super(message);
  }
}

/** No workflow with this id in the namespace. */
export class ProcessNotFound extends ProcessError {
  override name = 'ProcessNotFound';
  readonly code = 'process_not_found';
  constructor(workflowId: string) {
    super(`no process with id "${workflowId}"`, workflowId);
  }
}

/** The process's progress query got no answer (no worker, or it failed). */
export class ProgressUnavailable extends ProcessError {
  override name = 'ProgressUnavailable';
  readonly code = 'progress_unavailable';
  constructor(
    workflowId: string,
    readonly reason: string,
  ) {
    super(`cannot read ${workflowId}'s progress: ${reason}`, workflowId);
  }
}

/** Nothing of the process waits for a person; `budget` when it waits for a larger budget instead. */
export class NothingAwaiting extends ProcessError {
  override name = 'NothingAwaiting';
  readonly code = 'nothing_awaiting';
  constructor(
    workflowId: string,
    readonly status: string,
    readonly budget?: BudgetWait,
  ) {
    super(`${workflowId} is not waiting for a person (status ${status})`, workflowId);
  }
}

/** The pause a decision names is not open (decided already, timed out, or never was). */
export class StaleRequest extends ProcessError {
  override name = 'StaleRequest';
  readonly code = 'stale_request';
  constructor(
    workflowId: string,
    readonly requestId: string,
    /** `status <status>`, or the workflow's reason for refusing. */
    readonly detail: string,
  ) {
    super(`${workflowId} has no open pause ${requestId} (${detail})`, workflowId);
  }
}

/** Several pauses wait and the request named none of them. */
export class AmbiguousPause extends ProcessError {
  override name = 'AmbiguousPause';
  readonly code = 'ambiguous_pause';
  constructor(
    workflowId: string,
    readonly pauses: Pause[],
  ) {
    super(`${pauses.length} runs of ${workflowId} wait for a person; name one`, workflowId);
  }
}

/** The workflow's validator refused the decision or the budget (its reason says why). */
export class RequestRefused extends ProcessError {
  override name = 'RequestRefused';
  readonly code = 'request_refused';
  constructor(
    workflowId: string,
    readonly what: 'decision' | 'budget',
    readonly reason: string,
  ) {
    super(`${workflowId} refused the ${what}: ${reason}`, workflowId);
  }
}

/** The process has ended: nothing to cancel or decide. */
export class ProcessClosed extends ProcessError {
  override name = 'ProcessClosed';
  readonly code = 'process_closed';
  constructor(
    workflowId: string,
    /** Temporal's execution status, lower case: completed, failed, cancelled, ... */
    readonly execution: string,
  ) {
    super(`${workflowId} has ended already (${execution})`, workflowId);
  }
}

/** The decision itself is wrong (its action, a message longer than the runs API accepts): nothing was sent. */
export class InvalidDecision extends ProcessError {
  override name = 'InvalidDecision';
  readonly code = 'invalid_decision';
  constructor(
    workflowId: string,
    readonly reason: string,
  ) {
    super(`the decision for ${workflowId} was not sent: ${reason}`, workflowId);
  }
}
