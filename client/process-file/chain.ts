import { STEP_COST_CENTS } from '../../api/types';
import type {
  AgentStepSpec,
  ApprovalGateSpec,
  ChainSpec,
  ChainStepSpec,
  StepDefaults,
} from '../../workflows/process-types';
import { LIMITS } from '../../workflows/process-types';
import { describeValue } from './errors';
import { isMapping, type IssueList } from './issues';
import { checkTemplateRefs, type StepOutline } from './refs';
import { agentStepSchema, approvalGateSchema, chainDefaultsSchema } from './schema';
import { durationSeconds, resolveDefaults, resolveStepSettings, withoutUndefined } from './settings';
import { closest } from './suggest';
import { formatUsd } from '../../core/money';
import { validFields, type RootContext } from './root';

const AGENT_KEYS = Object.keys(agentStepSchema.shape);
const GATE_KEYS = Object.keys(approvalGateSchema.shape);
const STEP_KEY_HINTS: Record<string, string> = {
  question: 'an approval gate is written approval: "<the question>"',
  type: 'the kind of step follows from its keys: task: for an agent step, approval: for a gate',
  prompt: 'an agent step is written task: "<what to do>"',
};

export function buildChain(
  data: Record<string, unknown>,
  root: RootContext,
  issues: IssueList,
): ChainSpec | undefined {
  const rawDefaults = isMapping(data.defaults)
    ? data.defaults
    : data.defaults === undefined || data.defaults === null
      ? {}
      : data.defaults;
  const defaultsInput =
    issues.check(chainDefaultsSchema, rawDefaults, ['defaults'], Object.keys(chainDefaultsSchema.shape)) ??
    validFields(chainDefaultsSchema, rawDefaults);
  const defaults = resolveDefaults(defaultsInput, 'chain', issues);

  const rawSteps = Array.isArray(data.steps) ? data.steps : [];
  if (rawSteps.length > LIMITS.steps)
    issues.at(
      ['steps'],
      `a chain has at most ${LIMITS.steps} steps, got ${rawSteps.length}; split it or use a batch`,
    );
  const outlines = rawSteps.map(outlineOf);
  reportDuplicateIds(outlines, issues);

  const steps: (ChainStepSpec | undefined)[] = rawSteps.map((raw, index) =>
    buildStep(raw, index, outlines, defaults, defaultsInput.max_retries, root, issues),
  );
  checkWorstCase(steps, root.maxCostCents, issues);
  if (steps.some((step) => step === undefined)) return undefined;
  return withoutUndefined({
    kind: 'chain' as const,
    name: root.name,
    description: root.description,
    inputs: root.inputs.values,
    defaults,
    steps: steps as ChainStepSpec[],
    maxCostCents: root.maxCostCents,
  });
}

function outlineOf(raw: unknown): StepOutline | undefined {
  if (!isMapping(raw) || typeof raw.id !== 'string') return undefined;
  return { id: raw.id, type: 'approval' in raw ? 'approval' : 'agent' };
}

function reportDuplicateIds(outlines: (StepOutline | undefined)[], issues: IssueList): void {
  outlines.forEach((outline, index) => {
    if (!outline) return;
    const first = outlines.findIndex((other) => other?.id === outline.id);
    if (first < index) {
      const { line } = issues.source.locate(['steps', first, 'id']);
      issues.at(
        ['steps', index, 'id'],
        `duplicate step id "${outline.id}" (first used by steps[${first}] on line ${line}); step ids must be unique`,
      );
    }
  });
}

function buildStep(
  raw: unknown,
  index: number,
  outlines: (StepOutline | undefined)[],
  defaults: StepDefaults,
  defaultMaxRetries: number | undefined,
  root: RootContext,
  issues: IssueList,
): ChainStepSpec | undefined {
  const path = ['steps', index];
  if (!isMapping(raw)) {
    issues.at(
      path,
      `expected a step: a mapping with task: (an agent step) or approval: (an approval gate), got ${describeValue(raw)}`,
    );
    return undefined;
  }
  const scope = {
    inputs: root.inputs.declared,
    steps: outlines.map((o) => o ?? { id: '', type: 'agent' as const }),
    stepIndex: index,
  };
  if ('task' in raw && 'approval' in raw) {
    issues.at(
      [...path, 'approval'],
      'a step is either an agent step (task:) or an approval gate (approval:), not both; split it into two steps',
      { key: true },
    );
    return undefined;
  }
  if ('approval' in raw) {
    if (typeof raw.approval === 'string') {
      checkTemplateRefs(
        raw.approval,
        [...path, 'approval'],
        { ...scope, secretsAllowed: false, what: 'an approval question' },
        issues,
      );
    }
    const gate = issues.check(approvalGateSchema, raw, path, GATE_KEYS);
    if (!gate) return undefined;
    const timeoutSeconds =
      durationSeconds(gate.timeout, [...path, 'timeout'], issues) ?? defaults.approvalTimeoutSeconds;
    const spec: ApprovalGateSpec = {
      id: gate.id,
      type: 'approval',
      question: gate.approval,
      timeoutSeconds,
      timeoutPolicy: gate.timeout_policy ?? defaults.approvalTimeoutPolicy,
    };
    return spec;
  }
  if (!('task' in raw)) {
    const unknown = Object.keys(raw).filter((key) => !AGENT_KEYS.includes(key) && !GATE_KEYS.includes(key));
    for (const key of unknown) {
      const match = closest(key, [...AGENT_KEYS, ...GATE_KEYS]);
      const hint = STEP_KEY_HINTS[key] ?? (match ? `did you mean "${match}"?` : undefined);
      issues.at([...path, key], `unknown key "${key}"${hint ? `; ${hint}` : ''}`, { key: true });
    }
    const id = typeof raw.id === 'string' ? ` "${raw.id}"` : '';
    issues.at(path, `step${id} needs task: (an agent step) or approval: (an approval gate)`);
    return undefined;
  }
  if (typeof raw.task === 'string')
    checkTemplateRefs(
      raw.task,
      [...path, 'task'],
      { ...scope, secretsAllowed: true, what: 'a task' },
      issues,
    );
  const step = issues.check(agentStepSchema, raw, path, AGENT_KEYS);
  if (!step) return undefined;
  const settings = resolveStepSettings(step, defaults, defaultMaxRetries, path, issues);
  if (settings.machineId === undefined) {
    issues.at(path, `no machine for step "${step.id}": set machine: on the step or in defaults:`);
    return undefined;
  }
  const spec: AgentStepSpec = withoutUndefined({
    id: step.id,
    type: 'agent' as const,
    task: step.task,
    machineId: settings.machineId,
    maxSteps: settings.maxSteps,
    deadlineSeconds: settings.deadlineSeconds,
    onAwaitingHuman: settings.onAwaitingHuman,
    delivery: settings.delivery,
    approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    approvalTimeoutPolicy: settings.approvalTimeoutPolicy,
    onFailure: settings.onFailure,
  });
  return spec;
}

/** One run whose worst case is over the whole budget would wait for a raise before it starts. */
function checkWorstCase(
  steps: (ChainStepSpec | undefined)[],
  maxCostCents: number | undefined,
  issues: IssueList,
): void {
  if (maxCostCents === undefined) return;
  const viaDefaults: string[] = [];
  steps.forEach((step, index) => {
    if (step?.type !== 'agent') return;
    const worst = step.maxSteps * STEP_COST_CENTS;
    if (worst <= maxCostCents) return;
    const ownMaxSteps = isMapping(issues.source.data) && hasOwnMaxSteps(issues.source.data, index);
    if (ownMaxSteps) {
      issues.at(
        ['steps', index, 'max_steps'],
        `one run of this step may cost up to USD ${formatUsd(worst)} (${step.maxSteps} steps x 0.05), more than max_cost_usd ${formatUsd(maxCostCents)}; lower max_steps or raise max_cost_usd`,
      );
    } else viaDefaults.push(`${step.id} (${formatUsd(worst)})`);
  });
  if (viaDefaults.length > 0) {
    issues.at(
      ['max_cost_usd'],
      `USD ${formatUsd(maxCostCents)} is less than the worst case of one run of ${viaDefaults.join(', ')}: max_steps x 0.05; lower max_steps or raise max_cost_usd`,
    );
  }
}

function hasOwnMaxSteps(data: Record<string, unknown>, index: number): boolean {
  const steps = data.steps;
  return Array.isArray(steps) && isMapping(steps[index]) && 'max_steps' in steps[index];
}
