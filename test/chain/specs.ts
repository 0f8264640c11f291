// Small builders for the ChainSpec a process file would produce (see client/process-file).
import type { AgentStepSpec, ApprovalGateSpec, ChainSpec, StepDefaults } from '../../workflows/process-types';

export const DEFAULTS: StepDefaults = {
  machineId: 'm-1',
  maxSteps: 10,
  onAwaitingHuman: 'pause',
  approvalTimeoutSeconds: 3600,
  approvalTimeoutPolicy: 'reject',
  onFailure: { policy: 'stop', maxRetries: 0 },
};

export function agent(id: string, task: string, over: Partial<AgentStepSpec> = {}): AgentStepSpec {
  const { machineId = 'm-1', ...defaults } = DEFAULTS;
  return { id, type: 'agent', task, machineId, ...defaults, ...over };
}

export function gate(id: string, question: string, over: Partial<ApprovalGateSpec> = {}): ApprovalGateSpec {
  return { id, type: 'approval', question, timeoutSeconds: 3600, timeoutPolicy: 'reject', ...over };
}

export function chain(steps: ChainSpec['steps'], over: Partial<ChainSpec> = {}): ChainSpec {
  return { kind: 'chain', name: 'test-chain', inputs: {}, defaults: DEFAULTS, steps, ...over };
}
