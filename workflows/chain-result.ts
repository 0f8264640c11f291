// What runChain returns: each step's outcome, the cost and every decision a person (or a timeout)
// made; and the record a step keeps while the chain runs.
import type { RunError } from '../api/types';
import type { ApprovalRecord, StepState } from './messages';

export type ChainStatus = 'succeeded' | 'failed' | 'cancelled';

export interface ChainStepResult {
  id: string;
  type: 'agent' | 'approval';
  /** Final state: a run status for agent steps; approved, rejected or cancelled for gates; skipped if never reached. */
  state: StepState;
  /** The last attempt's run. */
  runId?: string;
  /** The last attempt's child workflow id (`<chain id>/<step id>`, `/retry-N` for a retry). */
  workflowId?: string;
  attempts: number;
  /** Steps and cost summed over all attempts (what was billed). */
  steps: number;
  costUsd: number;
  /** The last attempt's result or error; a gate's result is the person's message. */
  result: string | null;
  error: RunError | null;
  approvals: ApprovalRecord[];
}

/** What a step tells the chain to do next. */
export type StepVerdict = 'next' | 'stop' | 'cancel';

/** A step's result while the chain runs: its cost in cents (summed without drift), limits, question. */
export interface StepRecord extends ChainStepResult {
  costCents: number;
  maxSteps?: number;
  question?: string;
}

export interface ChainApproval extends ApprovalRecord {
  stepId: string;
}

export interface ChainResult {
  name: string;
  /** succeeded: every step reached its end (a failed step with on_failure continue included). */
  status: ChainStatus;
  steps: ChainStepResult[];
  costUsd: number;
  approvals: ChainApproval[];
}
