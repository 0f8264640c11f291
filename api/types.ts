// The runs API wire types (docs/api.md). Field names are the API's (snake_case).

export const RUN_STATUSES = [
  'queued',
  'running',
  'awaiting_human',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminalStatus(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export type EventType = RunStatus | 'step';

export type OnAwaitingHuman = 'pause' | 'fail' | 'cancel';

export const STEP_COST_CENTS = 5;

export interface CreateRunRequest {
  machine_id: string;
  task: string;
  cua_version?: string;
  max_steps?: number;
  deadline_seconds?: number;
  on_awaiting_human?: OnAwaitingHuman;
  webhook_url?: string;
}

export interface RunError {
  type: string;
  message: string;
}

export interface AwaitingHuman {
  reason: string;
  since: string;
}

export interface Run {
  id: string;
  status: RunStatus;
  machine_id: string;
  task: string;
  cua_version: string;
  max_steps: number | null;
  deadline_seconds: number | null;
  on_awaiting_human: OnAwaitingHuman;
  webhook_url: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  steps: number;
  cost_usd: number;
  result: string | null;
  error: RunError | null;
  awaiting_human: AwaitingHuman | null;
}

export type StepActionType = 'navigate' | 'click' | 'type' | 'scroll' | 'key' | 'screenshot' | 'wait';

export interface StepAction {
  type: StepActionType;
  url?: string;
  x?: number;
  y?: number;
  text?: string;
  [extra: string]: unknown;
}

export interface RunEvent {
  id: string;
  run_id: string;
  type: EventType;
  timestamp: string;
  status: RunStatus;
  step_id?: string;
  action?: StepAction;
  observation?: string;
  cost_usd?: number;
  payload?: Record<string, unknown>;
}

export interface ResumeRequest {
  action: 'approve' | 'reject';
  message?: string;
}

export interface RunList {
  data: Run[];
  has_more: boolean;
}

export interface Machine {
  id: string;
  status: 'idle' | 'busy';
}

export interface ApiErrorBody {
  error: { type: string; message: string; param?: string };
}
