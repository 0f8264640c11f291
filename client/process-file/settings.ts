import {
  LIMITS,
  PROCESS_DEFAULTS,
  type FailurePolicy,
  type OnFailure,
  type StepDefaults,
} from '../../workflows/process-types';
import type { OnAwaitingHuman } from '../../api/types';
import type { Delivery } from '../../workflows/process-types';
import { parseDuration } from './duration';
import type { PathSegment } from './errors';
import type { IssueList } from './issues';

export interface RunSettingsInput {
  machine?: string;
  max_steps?: number;
  deadline_seconds?: number;
  on_awaiting_human?: OnAwaitingHuman;
  delivery?: Delivery;
  approval_timeout?: string | number;
  approval_timeout_policy?: 'reject' | 'cancel' | 'fail';
  on_failure?: FailurePolicy;
  max_retries?: number;
}

export function durationSeconds(
  value: string | number | undefined,
  path: readonly PathSegment[],
  issues: IssueList,
): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    issues.at(path, 'expected a duration like 30m, 24h or 2d, or a whole number of seconds');
    return undefined;
  }
  if (seconds > LIMITS.approvalTimeoutSeconds) {
    issues.at(path, `expected at most 365d, got ${value} (${seconds} s)`);
    return undefined;
  }
  return seconds;
}

function onFailure(
  policy: FailurePolicy,
  maxRetries: number | undefined,
  path: readonly PathSegment[],
  issues: IssueList,
  own: boolean,
): OnFailure {
  if (policy !== 'retry') {
    if (own && maxRetries !== undefined)
      issues.at(
        [...path, 'max_retries'],
        `max_retries applies only with on_failure: retry (here on_failure is ${policy})`,
      );
    return { policy, maxRetries: 0 };
  }
  return { policy, maxRetries: maxRetries ?? PROCESS_DEFAULTS.retryMaxRetries };
}

/** The file's `defaults:` over the built-in defaults. */
export function resolveDefaults(
  input: RunSettingsInput,
  kind: 'chain' | 'batch',
  issues: IssueList,
): StepDefaults {
  const path = ['defaults'];
  const policy =
    input.on_failure ??
    (kind === 'chain' ? PROCESS_DEFAULTS.chainOnFailure : PROCESS_DEFAULTS.batchOnFailure);
  if (kind === 'batch' && policy === 'stop') {
    issues.at(
      [...path, 'on_failure'],
      'in a batch a failed item never stops the others: use continue (the default) or retry; run the batch again to redo failed items',
    );
  }
  return withoutUndefined({
    machineId: input.machine,
    maxSteps: input.max_steps ?? PROCESS_DEFAULTS.maxSteps,
    deadlineSeconds: input.deadline_seconds,
    onAwaitingHuman: input.on_awaiting_human ?? PROCESS_DEFAULTS.onAwaitingHuman,
    delivery: input.delivery,
    approvalTimeoutSeconds:
      durationSeconds(input.approval_timeout, [...path, 'approval_timeout'], issues) ??
      PROCESS_DEFAULTS.approvalTimeoutSeconds,
    approvalTimeoutPolicy: input.approval_timeout_policy ?? PROCESS_DEFAULTS.approvalTimeoutPolicy,
    onFailure: onFailure(
      policy,
      input.max_retries,
      path,
      issues,
      input.on_failure !== undefined || kind === 'batch',
    ),
  });
}

/** A step's own settings over the resolved defaults. */
export function resolveStepSettings(
  input: RunSettingsInput,
  defaults: StepDefaults,
  defaultMaxRetries: number | undefined,
  path: readonly PathSegment[],
  issues: IssueList,
): StepDefaults {
  const policy = input.on_failure ?? defaults.onFailure.policy;
  const failure = onFailure(policy, input.max_retries, path, issues, true);
  return withoutUndefined({
    machineId: input.machine ?? defaults.machineId,
    maxSteps: input.max_steps ?? defaults.maxSteps,
    deadlineSeconds: input.deadline_seconds ?? defaults.deadlineSeconds,
    onAwaitingHuman: input.on_awaiting_human ?? defaults.onAwaitingHuman,
    delivery: input.delivery ?? defaults.delivery,
    approvalTimeoutSeconds:
      durationSeconds(input.approval_timeout, [...path, 'approval_timeout'], issues) ??
      defaults.approvalTimeoutSeconds,
    approvalTimeoutPolicy: input.approval_timeout_policy ?? defaults.approvalTimeoutPolicy,
    onFailure:
      failure.policy === 'retry' && input.max_retries === undefined && defaultMaxRetries !== undefined
        ? { policy, maxRetries: defaultMaxRetries }
        : failure,
  });
}

/** Drops undefined fields so that specs compare and serialize as plain JSON. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
