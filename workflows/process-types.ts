// The normalized process description that the client builds from a process file and
// passes to runChain / runBatch. Plain JSON: no classes, no Dates, no undefined-only
// semantics beyond optional fields. Workflow-safe: types and constants only.
import type { OnAwaitingHuman } from '../api/types';

export type ApprovalTimeoutPolicy = 'reject' | 'cancel' | 'fail';
/** How a run's events reach its workflow: an open stream (default), or webhooks to a receiver. */
export type Delivery = 'stream' | 'webhook';
export type FailurePolicy = 'stop' | 'continue' | 'retry';
export type InputType = 'string' | 'number' | 'boolean';
export type InputValue = string | number | boolean;
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface OnFailure {
  policy: FailurePolicy;
  /** Extra attempts, each a new run; 0 unless policy is 'retry'. */
  maxRetries: number;
}

export interface AgentStepSpec {
  id: string;
  type: 'agent';
  /** Template: {{input.x}}, {{steps.<id>.result|status|cost_usd}}, {{secret.NAME}}. */
  task: string;
  machineId: string;
  maxSteps: number;
  deadlineSeconds?: number;
  onAwaitingHuman: OnAwaitingHuman;
  /** Absent: stream. */
  delivery?: Delivery;
  approvalTimeoutSeconds: number;
  approvalTimeoutPolicy: ApprovalTimeoutPolicy;
  onFailure: OnFailure;
}

export interface ApprovalGateSpec {
  id: string;
  type: 'approval';
  /** Template, like a task, but never contains secrets. */
  question: string;
  timeoutSeconds: number;
  timeoutPolicy: ApprovalTimeoutPolicy;
}

export type ChainStepSpec = AgentStepSpec | ApprovalGateSpec;

/** Defaults after the file's `defaults:` and the built-in ones below are applied. */
export interface StepDefaults {
  machineId?: string;
  maxSteps: number;
  deadlineSeconds?: number;
  onAwaitingHuman: OnAwaitingHuman;
  delivery?: Delivery;
  approvalTimeoutSeconds: number;
  approvalTimeoutPolicy: ApprovalTimeoutPolicy;
  onFailure: OnFailure;
}

export interface ChainSpec {
  kind: 'chain';
  name: string;
  description?: string;
  /** Declared inputs with values resolved (given, else default), coerced to their type. */
  inputs: Record<string, InputValue>;
  defaults: StepDefaults;
  steps: ChainStepSpec[];
  maxCostCents?: number;
}

export interface BatchItem {
  /** Stable and id-safe: the `key_field` value, else the item's 1-based number. */
  key: string;
  fields: Record<string, JsonValue>;
}

export type BatchStepDefaults = Omit<StepDefaults, 'machineId'>;

export interface BatchSpec {
  kind: 'batch';
  name: string;
  description?: string;
  inputs: Record<string, InputValue>;
  /** Template: {{item.<field>}}, {{input.x}}, {{secret.NAME}}. */
  taskTemplate: string;
  items: BatchItem[];
  keyField?: string;
  concurrency: number;
  machines: string[];
  stepDefaults: BatchStepDefaults;
  maxCostCents?: number;
  source: 'inline' | 'csv' | 'jsonl';
  /** Header order of the CSV, for a report in the same shape. */
  csvColumns?: string[];
}

export type ProcessSpec = ChainSpec | BatchSpec;

/**
 * Built-in defaults. max_steps 50 bounds a run's worst case at USD 2.50; a person gets
 * 24 h to answer; an unanswered approval is a rejection (the safe reading of silence);
 * a failed chain step stops the chain, a failed batch item does not stop the batch;
 * `on_failure: retry` without `max_retries` retries twice. A batch's concurrency
 * defaults to the number of machines in its pool.
 * deadline_seconds has no default: the API's own applies.
 */
export const PROCESS_DEFAULTS = {
  maxSteps: 50,
  onAwaitingHuman: 'pause',
  approvalTimeoutSeconds: 24 * 60 * 60,
  approvalTimeoutPolicy: 'reject',
  chainOnFailure: 'stop',
  batchOnFailure: 'continue',
  retryMaxRetries: 2,
} as const satisfies {
  maxSteps: number;
  onAwaitingHuman: OnAwaitingHuman;
  approvalTimeoutSeconds: number;
  approvalTimeoutPolicy: ApprovalTimeoutPolicy;
  chainOnFailure: FailurePolicy;
  batchOnFailure: FailurePolicy;
  retryMaxRetries: number;
};

export const LIMITS = {
  maxSteps: 10_000,
  deadlineSeconds: 7 * 24 * 60 * 60,
  approvalTimeoutSeconds: 365 * 24 * 60 * 60,
  maxRetries: 10,
  concurrency: 1_000,
  steps: 100,
  taskChars: 10_000,
} as const;
