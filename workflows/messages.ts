// Messages understood by agentRun, runChain and runBatch; the client imports these definitions.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { AwaitingHumanInfo } from '../activities/types';
import type { RunStatus, StepAction } from '../api/types';
import { searchAttributesEnabled } from './search-attributes';

export interface HumanDecision {
  action: 'approve' | 'reject';
  message?: string;
  by?: string;
  /**
   * The pause this answers (`awaiting.requestId` from `progress`); omitted: the pause open when it
   * arrives. A decision for a pause not open (over, or not reached yet) is ignored.
   */
  requestId?: string;
}

export interface ApprovalRecord {
  requestId: string;
  reason: string;
  action: 'approve' | 'reject';
  message?: string;
  by?: string;
  at: string;
  /** Decided by the approval timeout policy, not by a person. */
  timedOut?: boolean;
}

export type CoastyStatus = 'creating' | RunStatus | 'awaiting_budget';

export interface AgentRunProgress {
  kind: 'agentRun';
  status: CoastyStatus;
  runId?: string;
  steps: number;
  maxSteps?: number;
  costUsd: number;
  lastAction?: StepAction;
  awaiting?: AwaitingHumanInfo;
  approvals: ApprovalRecord[];
  /** Webhook delivery: steps and cost are the run object's at the last read (readers may read it live). */
  delivery?: 'webhook';
}

export interface DecisionAck {
  requestId: string;
  accepted: boolean;
  /**
   * runChain only: the decision was forwarded to the child agent run of the current step (this
   * workflow id), which applies it only if the pause it names (`requestId`, required) is open.
   */
  forwardedTo?: string;
}

export const humanInputSignal = defineSignal<[HumanDecision]>('humanInput');
export const decideUpdate = defineUpdate<DecisionAck, [HumanDecision]>('decide');
/** What `progress` answers, told apart by `kind`. */
export type ProcessProgress = AgentRunProgress | ChainProgress | BatchProgress;
/** Sent by runBatch to an item's leftover child only to learn whether it still runs; it does nothing. */
export const leftoverProbeSignal = defineSignal('coastyLeftoverProbe');

/**
 * A run's state changed (webhook delivery): sent by the receiver for every event but `step`. A nudge,
 * not the truth: agentRun reads the run before it acts on a pause or trusts an end. It carries no
 * text of the agent's (the receiver cannot mask the worker's secrets in it, and history keeps it).
 */
export interface RunStateChange {
  runId: string;
  /** The webhook event's id (`Coasty-Event-Id`). */
  eventId: string;
  /** The run's status after the event. */
  status: RunStatus;
}
export const runStateSignal = defineSignal<[RunStateChange]>('coastyRunState');

export const progressQuery = defineQuery<ProcessProgress>('progress');

// Declared, not inferred: the inferred type names a deep path of @temporalio/common that NodeNext cannot resolve.
type KeywordKey = ReturnType<typeof defineSearchAttributeKey<'KEYWORD'>>;

export const coastyStatusKey: KeywordKey = defineSearchAttributeKey(
  'CoastyStatus',
  SearchAttributeType.KEYWORD,
);

/**
 * Start options of a child agentRun: its first status is set by the start itself, not by an upsert
 * (nothing when this worker's search attributes are off: the start would be refused).
 */
export const startsCreating = {
  get typedSearchAttributes(): SearchAttributePair[] | undefined {
    return searchAttributesEnabled() ? [{ key: coastyStatusKey, value: 'creating' }] : undefined;
  },
};

// ---- runChain and runBatch ----

export type StepState =
  'pending' | 'creating' | RunStatus | 'awaiting_approval' | 'approved' | 'rejected' | 'skipped';

export interface ChainStepProgress {
  id: string;
  type: 'agent' | 'approval';
  state: StepState;
  /** The child agentRun's workflow id (`<chain id>/<step id>`, or with `/retry-N` for a retry). */
  workflowId?: string;
  runId?: string;
  attempts: number;
  steps: number;
  maxSteps?: number;
  costUsd: number;
  result?: string | null;
  error?: { type: string; message: string } | null;
  /** For an approval gate that waits: what to decide. */
  question?: string;
}

export interface ChainProgress {
  kind: 'chain';
  name: string;
  status: CoastyStatus | 'completed';
  steps: ChainStepProgress[];
  /** The pause a decision would answer (a gate of the chain itself; a child's pauses are in its own progress). */
  awaiting?: { requestId: string; reason: string; stepId: string; since: string };
  costUsd: number;
  maxCostUsd?: number;
  budget?: BudgetWait;
  /** Decisions of the steps done so far (who, when, message), gates and runs; `stepId` says where. */
  approvals?: Array<ApprovalRecord & { stepId: string }>;
}

export interface BudgetWait {
  /** Spent plus the worst case of runs in flight, plus the next run's worst case. */
  neededUsd: number;
  maxCostUsd: number;
  since: string;
}

export interface BatchItemProgress {
  key: string;
  workflowId: string;
  machineId: string;
  state: StepState;
}

export interface BatchProgress {
  kind: 'batch';
  name: string;
  status: CoastyStatus | 'completed' | 'paused';
  total: number;
  done: number;
  failed: number;
  running: number;
  pending: number;
  costUsd: number;
  maxCostUsd?: number;
  paused: boolean;
  /** Items in flight now (at most `concurrency`). */
  inFlight: BatchItemProgress[];
  budget?: BudgetWait;
  /** Continue-as-new generations so far. */
  generation: number;
  /** Of `done`: items that succeeded in this batch, and items that had succeeded in an earlier run of it. */
  succeeded?: number;
  skipped?: number;
  /** Failed items waiting for a retry (counted in `pending`). */
  retrying?: number;
  concurrency?: number;
  /** The most children this batch ever had in flight at once. */
  maxInFlight?: number;
}

export interface RaiseBudget {
  maxCostUsd: number;
  by?: string;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const raiseBudgetSignal = defineSignal<[RaiseBudget]>('raiseBudget');
export const raiseBudgetUpdate = defineUpdate<{ maxCostUsd: number }, [RaiseBudget]>('raiseBudget');
