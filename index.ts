// The package `coasty-temporal`: the worker plugin, the runs API client, the codec and the
// programmatic client. Workflow code imports `coasty-temporal/workflow` instead (sandbox-safe).

// The worker
export {
  CoastyPlugin,
  createWorker,
  createSearchAttributeCommand,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_HEARTBEAT_THROTTLE,
  DEFAULT_TASK_QUEUE,
  MissingSearchAttributeError,
  workflowsPath,
  type CoastyPluginOptions,
  type CreateWorkerOptions,
} from './worker/index';
export { createActivities, type Activities, type ActivityDependencies } from './activities/index';
export type { SecretSource } from './activities/secrets';

// The runs API
export {
  RunsClient,
  type RunsClientOptions,
  type RequestOptions,
  type IdempotentRequestOptions,
} from './api/runs-client';
export {
  CoastyApiError,
  ConfigError,
  ConflictError,
  ForbiddenError,
  InvalidRequestError,
  NetworkError,
  NON_RETRYABLE_ERROR_TYPES,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServerError,
  StreamProtocolError,
  UnauthorizedError,
  UnexpectedContentTypeError,
  UnexpectedStatusError,
  UnprocessableError,
} from './api/errors';
export type * from './api/types';
export { RUN_STATUSES, TERMINAL_STATUSES, STEP_COST_CENTS, isTerminalStatus } from './api/types';

// Payload encryption
export * from './codec/index';

// The programmatic client
export { startProcess, type StartedProcess, type StartProcessOptions } from './client/start-process';
export {
  decide,
  sendDecision,
  type DecideOptions,
  type DecisionInput,
  type DecisionSent,
} from './client/decide';
export {
  SnapshotReader,
  WORKFLOW_TYPES,
  isClosed,
  type LineView,
  type Pause,
  type ProcessKind,
  type Snapshot,
} from './client/snapshot';
export { readOutcome, outcomeFromResult, type Outcome } from './client/outcome';
export { listProcesses, listQuery, AWAITING_STATUSES, type ListedProcess } from './client/commands/list';
export { decodeHeartbeatCursor } from './client/heartbeat-cursor';
export { loadProcessFile, parseProcessText, ProcessFileError } from './client/process-file/index';

// Names, messages and types shared with workflow code (type names, definitions: no workflow code runs here)
export {
  ACTIVITY_PREFIX,
  ACTIVITY_TYPE_NAMES,
  LEGACY_ACTIVITY_TYPE_NAMES,
  WORKFLOW_TYPE_NAMES,
  type ActivityKey,
  type WorkflowTypeName,
} from './workflows/names';
export {
  coastyStatusKey,
  decideUpdate,
  humanInputSignal,
  pauseSignal,
  progressQuery,
  raiseBudgetSignal,
  raiseBudgetUpdate,
  resumeSignal,
} from './workflows/messages';
export type * from './workflows/messages';
export type {
  AgentRunInput,
  AgentRunResult,
  ApprovalTimeoutPolicy,
  BatchItemResult,
  BatchResult,
  ChainResult,
  ChainStepResult,
  ProcessSpec,
  ChainSpec,
  BatchSpec,
} from './workflows/index';
export type { AwaitingHumanInfo, RunSummary, StreamCursor } from './activities/types';
