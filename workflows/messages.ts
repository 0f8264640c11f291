// Messages understood by agentRun, runChain and runBatch; the client imports these definitions.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { AwaitingHumanInfo } from '../activities/types';
import type { RunStatus, StepAction } from '../api/types';

export interface HumanDecision {
  action: 'approve' | 'reject';
  message?: string;
  by?: string;
  /** The pause this answers (`awaiting.requestId` from `progress`); omitted: the current or next pause. */
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
}

export interface DecisionAck {
  requestId: string;
  accepted: boolean;
}

export const humanInputSignal = defineSignal<[HumanDecision]>('humanInput');
export const decideUpdate = defineUpdate<DecisionAck, [HumanDecision]>('decide');
export const progressQuery = defineQuery<unknown>('progress');

export const coastyStatusKey = defineSearchAttributeKey('CoastyStatus', SearchAttributeType.KEYWORD);
