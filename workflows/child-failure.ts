// What a child workflow's failure means to its parent, as a run error.
import {
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RunError } from '../api/types';
import type { AgentRunResult } from './agent-run';

export interface ChildFailure {
  error: RunError;
  /** The child was cancelled (by someone else than its parent). */
  cancelled: boolean;
  /** The child's result when it failed with one in its details (batch items do). */
  details?: unknown;
}

/** Classifies an error from starting or awaiting a child; anything else (a bug) is rethrown. */
export function childFailure(error: unknown): ChildFailure {
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return { error: { type: 'already_started', message: error.message }, cancelled: false };
  }
  if (!(error instanceof ChildWorkflowFailure)) throw error;
  const cause = error.cause;
  if (cause instanceof CancelledFailure) {
    return { error: { type: 'cancelled', message: 'the step was cancelled' }, cancelled: true };
  }
  if (cause instanceof ApplicationFailure) {
    return {
      error: { type: cause.type ?? 'Error', message: cause.message },
      cancelled: false,
      details: cause.details?.[0],
    };
  }
  const type = cause instanceof TemporalFailure ? cause.name : 'ChildWorkflowFailure';
  return { error: { type, message: cause?.message ?? (error as Error).message }, cancelled: false };
}

/** The run result a failed agentRun or batchItem carries in its failure details (steps and cost billed). */
export function runResultIn(details: unknown): AgentRunResult | undefined {
  return typeof details === 'object' && details !== null && 'runId' in details && 'status' in details
    ? (details as AgentRunResult)
    : undefined;
}
