// What our trace spans say about a process, its runs and its decisions (OpenTelemetry attributes),
// picked field by field from inputs and results: ids, machine, status, steps, cost, a decision's
// action. A task, a person's message, a result or a secret is never picked. Pure: the workflow
// interceptors (workflows/tracing-interceptors.ts) and the worker's (worker/tracing.ts) share it.
import { centsToUsd } from '../core/money';
import {
  ACTIVITY_TYPE_NAMES,
  LEGACY_ACTIVITY_TYPE_NAMES,
  WORKFLOW_TYPE_NAMES,
  type ActivityKey,
} from './names';

export const SPAN_ATTRIBUTES = {
  /** The runs API's run id (`run_...`); Temporal's own run id is `run_id`. */
  runId: 'coasty.run_id',
  machineId: 'coasty.machine_id',
  /** A run's status; for a chain, the chain's. */
  status: 'coasty.status',
  steps: 'coasty.steps',
  costUsd: 'coasty.cost_usd',
  processName: 'coasty.process_name',
  processKind: 'coasty.process_kind',
  /** approve or reject (a decision's span, and resumeRun's). */
  decision: 'coasty.decision',
  decidedBy: 'coasty.decided_by',
  requestId: 'coasty.request_id',
  maxCostUsd: 'coasty.max_cost_usd',
  itemsSucceeded: 'coasty.items_succeeded',
  itemsFailed: 'coasty.items_failed',
} as const;

export type SpanAttributeValues = Record<string, string | number>;

const ACTIVITY_KEYS = new Map<string, ActivityKey>(
  [ACTIVITY_TYPE_NAMES, LEGACY_ACTIVITY_TYPE_NAMES].flatMap((names) =>
    (Object.keys(names) as ActivityKey[]).map((key) => [names[key], key] as const),
  ),
);

/** Our activity behind a type name (prefixed or legacy); undefined for anyone else's. */
export function activityKeyOf(activityType: string): ActivityKey | undefined {
  return ACTIVITY_KEYS.get(activityType);
}

export function activityInputAttributes(key: ActivityKey, input: unknown): SpanAttributeValues {
  const given = record(input);
  if (key === 'createRun')
    return pick({ [SPAN_ATTRIBUTES.machineId]: text(record(given.request).machine_id) });
  return pick({
    [SPAN_ATTRIBUTES.runId]: text(given.runId),
    ...(key === 'resumeRun' ? { [SPAN_ATTRIBUTES.decision]: text(given.action) } : {}),
  });
}

export function activityResultAttributes(key: ActivityKey, result: unknown): SpanAttributeValues {
  const given = record(result);
  if (key === 'createRun')
    return pick({ [SPAN_ATTRIBUTES.runId]: text(given.runId), [SPAN_ATTRIBUTES.status]: text(given.status) });
  if (key === 'streamRun') return summaryAttributes(given.summary);
  if (key === 'getRunSummary') return summaryAttributes(given);
  return {};
}

/** A workflow's input: the machine of a run, the name and kind of a chain or batch. */
export function workflowInputAttributes(workflowType: string, input: unknown): SpanAttributeValues {
  const given = record(input);
  if (isRunWorkflow(workflowType))
    return pick({ [SPAN_ATTRIBUTES.machineId]: text(record(given.request).machine_id) });
  return pick({
    [SPAN_ATTRIBUTES.processName]: text(given.name),
    [SPAN_ATTRIBUTES.processKind]: text(given.kind),
  });
}

/** A workflow's result, or the partial result a failed run carries in its failure's details. */
export function workflowResultAttributes(workflowType: string, result: unknown): SpanAttributeValues {
  const given = record(result);
  const common = { [SPAN_ATTRIBUTES.costUsd]: amount(given.costUsd) };
  if (isRunWorkflow(workflowType)) {
    return pick({
      [SPAN_ATTRIBUTES.runId]: text(given.runId),
      [SPAN_ATTRIBUTES.status]: text(given.status),
      [SPAN_ATTRIBUTES.steps]: amount(given.steps),
      ...common,
    });
  }
  return pick({
    [SPAN_ATTRIBUTES.status]: text(given.status),
    [SPAN_ATTRIBUTES.itemsSucceeded]: amount(given.succeeded),
    [SPAN_ATTRIBUTES.itemsFailed]: amount(given.failed),
    ...common,
  });
}

/** A signal's or update's argument: a decision (action, by, pause) or a raised budget. */
export function messageAttributes(args: readonly unknown[]): SpanAttributeValues {
  const given = record(args[0]);
  return pick({
    [SPAN_ATTRIBUTES.decision]:
      given.action === 'approve' || given.action === 'reject' ? given.action : undefined,
    [SPAN_ATTRIBUTES.decidedBy]: text(given.by),
    [SPAN_ATTRIBUTES.requestId]: text(given.requestId),
    [SPAN_ATTRIBUTES.maxCostUsd]: amount(given.maxCostUsd),
  });
}

function summaryAttributes(summary: unknown): SpanAttributeValues {
  const given = record(summary);
  const cents = amount(given.costCents);
  return pick({
    [SPAN_ATTRIBUTES.runId]: text(given.runId),
    [SPAN_ATTRIBUTES.status]: text(given.status),
    [SPAN_ATTRIBUTES.steps]: amount(given.steps),
    [SPAN_ATTRIBUTES.costUsd]: cents === undefined ? undefined : centsToUsd(cents),
  });
}

/** Our workflow types: the tracing interceptors leave anyone else's workflows as the SDK's would. */
export function isCoastyWorkflow(workflowType: string): boolean {
  return Object.values<string>(WORKFLOW_TYPE_NAMES).includes(workflowType);
}

function isRunWorkflow(workflowType: string): boolean {
  return workflowType === WORKFLOW_TYPE_NAMES.agentRun || workflowType === WORKFLOW_TYPE_NAMES.batchItem;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** Short identifiers only (ids, statuses, names): a long text is no attribute of ours. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function amount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function pick(values: Record<string, string | number | undefined>): SpanAttributeValues {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as SpanAttributeValues;
}
