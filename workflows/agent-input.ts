// The input of one agentRun child, from a chain step or a batch's step defaults.
import type { AgentRunInput } from './agent-run';
import type { AgentStepSpec } from './process-types';

export type RunSettings = Pick<
  AgentStepSpec,
  | 'machineId'
  | 'maxSteps'
  | 'deadlineSeconds'
  | 'onAwaitingHuman'
  | 'delivery'
  | 'approvalTimeoutSeconds'
  | 'approvalTimeoutPolicy'
>;

/**
 * The timeout policy `fail` is applied by the parent: the child is told `cancel` (its run is
 * cancelled and its result, cost included, comes back), and the parent then fails itself (a chain)
 * or the item (a batch). A child that failed would tell its parent nothing about what it cost.
 */
export function agentRunInput(settings: RunSettings, task: string, stepKey: string): AgentRunInput {
  return {
    request: {
      machine_id: settings.machineId,
      task,
      max_steps: settings.maxSteps,
      deadline_seconds: settings.deadlineSeconds,
      on_awaiting_human: settings.onAwaitingHuman,
    },
    stepKey,
    approvalTimeout: settings.approvalTimeoutSeconds * 1000,
    approvalTimeoutPolicy:
      settings.approvalTimeoutPolicy === 'fail' ? 'cancel' : settings.approvalTimeoutPolicy,
    // Only when asked for: inputs of stream runs stay as they were before webhook delivery existed.
    ...(settings.delivery === 'webhook' ? { delivery: 'webhook' as const } : {}),
  };
}

/** True when the run was cancelled because nobody answered in time. */
export function cancelledByApprovalTimeout(result: {
  status: string;
  approvals: Array<{ timedOut?: boolean }>;
}) {
  return result.status === 'cancelled' && result.approvals.some((approval) => approval.timedOut);
}
