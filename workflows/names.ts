// The type names Temporal records in history, in one table: clients, the CLI and the plugin use these,
// never string literals. Workflow types are the exported function names.
/** Where workers poll and clients start, unless told otherwise (`--task-queue`, COASTY_TASK_QUEUE). */
export const DEFAULT_TASK_QUEUE = 'coasty-temporal';

export const WORKFLOW_TYPE_NAMES = {
  agentRun: 'agentRun',
  batchItem: 'batchItem',
  runChain: 'runChain',
  runBatch: 'runBatch',
} as const;

export type WorkflowTypeName = (typeof WORKFLOW_TYPE_NAMES)[keyof typeof WORKFLOW_TYPE_NAMES];

/** Our activities are registered under this prefix, so a user's own `createRun` on the same worker keeps working. */
export const ACTIVITY_PREFIX = 'coasty.';

export const ACTIVITY_TYPE_NAMES = {
  createRun: 'coasty.createRun',
  streamRun: 'coasty.streamRun',
  resumeRun: 'coasty.resumeRun',
  cancelRun: 'coasty.cancelRun',
  getRunSummary: 'coasty.getRunSummary',
} as const;

/**
 * The names used before the prefix. Histories recorded then (no `ACTIVITY_NAMES_PATCH` marker) replay
 * and go on with them, so workers keep registering them too, unless a user activity has that name.
 */
export const LEGACY_ACTIVITY_TYPE_NAMES = {
  createRun: 'createRun',
  streamRun: 'streamRun',
  resumeRun: 'resumeRun',
  cancelRun: 'cancelRun',
  getRunSummary: 'getRunSummary',
} as const;

export type ActivityKey = keyof typeof ACTIVITY_TYPE_NAMES;
export type ActivityTypeNames = { readonly [K in ActivityKey]: string };

/** The `patched()` id that switches agentRun from the legacy activity names to the prefixed ones. */
export const ACTIVITY_NAMES_PATCH = 'coasty-prefixed-activity-names';

/** Both names of the stream activity, for readers of pending activities (its heartbeat is the live cursor). */
export function isStreamActivityType(name: string | null | undefined): boolean {
  return name === ACTIVITY_TYPE_NAMES.streamRun || name === LEGACY_ACTIVITY_TYPE_NAMES.streamRun;
}

/** Our metric names (workflows/metrics.ts records them; Prometheus adds `_total` to counters). */
export const METRIC_NAMES = {
  runsCreated: 'coasty_runs_created',
  runsFinished: 'coasty_runs_finished',
  stepsBilled: 'coasty_agent_steps_billed',
  costCents: 'coasty_cost_cents',
  streamReconnects: 'coasty_stream_reconnects',
  streamRetries: 'coasty_stream_retries',
  approvalWait: 'coasty_approval_wait_seconds',
  decisions: 'coasty_decisions',
  budgetWaits: 'coasty_budget_waits',
  /** Gauges of the worker (worker/in-flight.ts), read from visibility: not recorded by workflows. */
  runsInFlight: 'coasty_runs_in_flight',
  oldestApprovalWait: 'coasty_oldest_approval_wait_seconds',
  /** Recorded by the webhook receiver (serve, `coasty-temporal webhooks`), not by workflows. */
  webhookDeliveries: 'coasty_webhook_deliveries',
  webhookRefused: 'coasty_webhook_refused',
} as const;
