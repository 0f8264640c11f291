// The `coasty-temporal/workflow` entry point: safe in Temporal's workflow sandbox (no I/O, no Node
// built-ins). Its functions are the workflows a worker registers; re-export them from your own
// workflows file. The rest is message definitions, type names and types.
export { agentRun } from './agent-run';
export { runChain } from './run-chain';
export { runBatch } from './run-batch';
export { batchItem } from './batch-item';

export type { AgentRunInput, AgentRunResult } from './agent-run';
export type { ApprovalTimeoutPolicy } from './process-types';
export type { ChainResult, ChainStepResult, StepVerdict } from './chain-result';
export type { BatchResult, BatchItemResult, BatchState } from './run-batch';
export type { ChainStatus, ChainApproval } from './chain-result';
export type {
  AgentStepSpec,
  ApprovalGateSpec,
  BatchItem,
  BatchSpec,
  BatchStepDefaults,
  ChainSpec,
  ChainStepSpec,
  FailurePolicy,
  InputType,
  InputValue,
  JsonValue,
  OnFailure,
  ProcessSpec,
  StepDefaults,
} from './process-types';

export {
  coastyStatusKey,
  decideUpdate,
  humanInputSignal,
  pauseSignal,
  progressQuery,
  raiseBudgetSignal,
  raiseBudgetUpdate,
  resumeSignal,
  startsCreating,
} from './messages';
export type {
  AgentRunProgress,
  ApprovalRecord,
  BatchItemProgress,
  BatchProgress,
  BudgetWait,
  ChainProgress,
  ChainStepProgress,
  CoastyStatus,
  DecisionAck,
  HumanDecision,
  ProcessProgress,
  RaiseBudget,
  StepState,
} from './messages';
export {
  ACTIVITY_NAMES_PATCH,
  ACTIVITY_PREFIX,
  ACTIVITY_TYPE_NAMES,
  LEGACY_ACTIVITY_TYPE_NAMES,
  WORKFLOW_TYPE_NAMES,
} from './names';
export type { ActivityKey, ActivityTypeNames, WorkflowTypeName } from './names';
export type { AwaitingHumanInfo, RunSummary, StreamCursor } from '../activities/types';
export type { CreateRunRequest, RunError, RunStatus, StepAction } from '../api/types';
