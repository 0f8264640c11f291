// Every event of a process in one order that never changes, so one cursor resumes it anywhere: the
// process's own history in order, and at each child's start that child's run as one block (its
// creation, every event the runs API has for it, each decision right after the pause it answers)
// until the run ends. A batch's items therefore come one block at a time, in the order they started:
// an item's events wait until the items started before it have ended. Built only from what Temporal
// and the runs API keep, so a serve restarted later gives the same events in the same order.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Redact } from '../../activities/secrets';
import type { RunsClient } from '../../api/runs-client';
import { isTerminalStatus, type RunEvent } from '../../api/types';
import { decodeFirstPayload } from '../../client/heartbeat-cursor';
import type { ChainSpec } from '../../workflows/process-types';
import { ACTIVITY_TYPE_NAMES, LEGACY_ACTIVITY_TYPE_NAMES, isStreamActivityType } from '../../workflows/names';
import { EventType, eventTime, followHistory, isCloseEvent, type HistoryEvent } from './history';

/** One event as a follower gets it (its `id` is added by the log). */
export interface ProcessEvent {
  type: string;
  timestamp: string;
  process_id: string;
  /** A chain's step id (agent step or gate). */
  step?: string;
  /** A batch item's key. */
  item?: string;
  run_id?: string;
  [field: string]: unknown;
}

/** An event and what makes it this event (for the cursor's check): a history event or a run's event. */
export interface SourcedEvent {
  event: ProcessEvent;
  source: string;
}

export interface EventSources {
  client: Client;
  runs: RunsClient;
  /** Masks the workers' secrets in what the agent reports. */
  redact: Redact;
}

type Kind = 'agentRun' | 'chain' | 'batch';
type Where = Pick<ProcessEvent, 'step' | 'item'>;
type History = AsyncIterator<HistoryEvent & { runId: string }>;

const KINDS: Record<string, Kind> = {
  agentRun: 'agentRun',
  batchItem: 'agentRun',
  runChain: 'chain',
  runBatch: 'batch',
};
const RESUME_NAMES = new Set<string>([ACTIVITY_TYPE_NAMES.resumeRun, LEGACY_ACTIVITY_TYPE_NAMES.resumeRun]);
const CANCEL_NAMES = new Set<string>([ACTIVITY_TYPE_NAMES.cancelRun, LEGACY_ACTIVITY_TYPE_NAMES.cancelRun]);
const CHILD_CLOSED: Partial<Record<number, string>> = {
  [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED]: 'succeeded',
  [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED]: 'failed',
  [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED]: 'cancelled',
  [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT]: 'timed_out',
  [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED]: 'terminated',
};
const PROCESS_CLOSED: Partial<Record<number, string>> = {
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED]: 'completed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED]: 'failed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED]: 'cancelled',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]: 'terminated',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT]: 'timed_out',
};

/** The first execution of the process: its events belong to that execution and those it continued as. */
export async function firstRunIdOf(client: Client, workflowId: string): Promise<string> {
  const description = await client.workflow.getHandle(workflowId).describe();
  return description.raw.workflowExecutionInfo?.firstRunId || description.runId;
}

export async function* processEvents(
  sources: EventSources,
  workflowId: string,
  firstRunId: string,
  signal: AbortSignal,
): AsyncGenerator<SourcedEvent> {
  const { client } = sources;
  const history = followHistory(client, workflowId, firstRunId, signal)[Symbol.asyncIterator]();
  const base = { process_id: workflowId };
  const fromHistory = (type: string, event: HistoryEvent & { runId: string }, fields: object = {}) => ({
    event: { type, timestamp: eventTime(event), ...base, ...fields },
    source: `h:${event.runId}:${event.eventId}`,
  });

  const started = (await history.next()).value as HistoryEvent & { runId: string };
  const attributes = started.workflowExecutionStartedEventAttributes;
  const kind = KINDS[attributes?.workflowType?.name ?? ''] ?? 'agentRun';
  const input = (await decodeFirstPayload(client, attributes?.input?.payloads)) as
    { name?: string; steps?: ChainSpec['steps'] } | undefined;
  yield fromHistory('process_started', started, { kind, ...(input?.name ? { name: input.name } : {}) });

  if (kind === 'agentRun') yield* runBlock(sources, history, base, {}, signal);
  const gates = (input?.steps ?? []).map((step) => (step.type === 'approval' ? step.id : undefined));
  let stepIndex = -1;
  const updates = new Map<string, { name: string; args: unknown }>();

  for (let next = await history.next(); !next.done; next = await history.next()) {
    const event = next.value;
    const type = event.eventType!;
    if (type === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED) {
      const child = event.childWorkflowExecutionStartedEventAttributes!.workflowExecution!;
      const where = whereOf(kind, workflowId, child.workflowId!);
      if (where.step) stepIndex = (input?.steps ?? []).findIndex((step) => step.id === where.step);
      yield fromHistory('step_started', event, { ...where, workflow_id: child.workflowId });
      const childHistory = followHistory(client, child.workflowId!, child.runId!, signal)[
        Symbol.asyncIterator
      ]();
      try {
        yield* runBlock(sources, childHistory, base, where, signal);
      } finally {
        await childHistory.return?.(undefined);
      }
    } else if (type === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED && kind === 'batch') {
      const childId = event.startChildWorkflowExecutionFailedEventAttributes?.workflowId ?? '';
      // The item's child completed in an earlier execution of this batch id: it counts as done.
      yield fromHistory('item_finished', event, { ...whereOf(kind, workflowId, childId), status: 'skipped' });
    } else if (CHILD_CLOSED[type] && kind === 'batch') {
      const childId = childIdOf(event);
      yield fromHistory('item_finished', event, {
        ...whereOf(kind, workflowId, childId),
        status: CHILD_CLOSED[type],
      });
    } else if (type === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
      const status = coastyStatusOf(event);
      if (status === 'awaiting_budget') yield fromHistory('budget_waiting', event);
      if (status === 'awaiting_human' && kind === 'chain') {
        const gateIndex = gates.findIndex((gate, index) => gate !== undefined && index > stepIndex);
        if (gateIndex >= 0) {
          stepIndex = gateIndex;
          yield fromHistory('awaiting_human', event, { step: gates[gateIndex] });
        }
      }
    } else if (type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
      const signaled = event.workflowExecutionSignaledEventAttributes!;
      if (signaled.signalName === 'raiseBudget') {
        const raise = (await decodeFirstPayload(client, signaled.input?.payloads)) as { maxCostUsd?: number };
        yield fromHistory('budget_raised', event, { max_cost_usd: raise?.maxCostUsd });
      }
    } else if (type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      const id = request?.meta?.updateId;
      if (id && request?.input?.name) {
        updates.set(id, {
          name: request.input.name,
          args: await decodeFirstPayload(client, request.input.args?.payloads),
        });
      }
    } else if (type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) {
      const completed = event.workflowExecutionUpdateCompletedEventAttributes!;
      const update = updates.get(completed.meta?.updateId ?? '');
      const success = completed.outcome?.success?.payloads;
      if (!update || !success) continue;
      const result = (await decodeFirstPayload(client, success)) as {
        accepted?: boolean;
        requestId?: string;
        forwardedTo?: string;
        maxCostUsd?: number;
      };
      if (update.name === 'decide' && kind === 'chain' && result?.accepted && !result.forwardedTo) {
        const decision = update.args as { action?: string; message?: string; by?: string };
        yield fromHistory('decision', event, {
          step: result.requestId,
          action: decision?.action,
          ...(decision?.message ? { message: sources.redact(decision.message) } : {}),
          ...(decision?.by ? { by: decision.by } : {}),
        });
      }
      if (update.name === 'raiseBudget')
        yield fromHistory('budget_raised', event, { max_cost_usd: result?.maxCostUsd });
    } else if (PROCESS_CLOSED[type]) {
      const result = await closeResult(client, event);
      yield fromHistory('process_finished', event, { status: PROCESS_CLOSED[type], ...result });
      return;
    }
  }
}

/**
 * One agentRun's run: `run_created`, then the runs API's events of that run in order, each decision
 * (from the agentRun's history: the resume it sent, and who decided) right after its pause. Ends with
 * the run's last event, or when the agentRun closes without a run.
 */
async function* runBlock(
  sources: EventSources,
  history: History,
  base: { process_id: string },
  where: Where,
  signal: AbortSignal,
): AsyncGenerator<SourcedEvent> {
  const { client } = sources;
  let runId: string | undefined;
  for (let next = await history.next(); !next.done; next = await history.next()) {
    const event = next.value;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled && isStreamActivityType(scheduled.activityType?.name)) {
      runId = ((await decodeFirstPayload(client, scheduled.input?.payloads)) as { runId?: string })?.runId;
      if (runId) {
        yield {
          event: { type: 'run_created', timestamp: eventTime(event), ...base, ...where, run_id: runId },
          source: `h:${event.runId}:${event.eventId}`,
        };
        break;
      }
    }
    if (isCloseEvent(event)) return;
  }
  if (!runId) return;

  let decidedBy: string | undefined;
  for await (const runEvent of sources.runs.streamEvents(runId, { signal })) {
    yield { event: fromRun(runEvent, base, where, sources.redact), source: `r:${runId}:${runEvent.id}` };
    if (isTerminalStatus(runEvent.type)) return;
    if (runEvent.type !== 'awaiting_human') continue;
    // The decision that answered this pause: the resume the agentRun sent for it (none if it cancelled).
    for (let next = await history.next(); !next.done; next = await history.next()) {
      const event = next.value;
      const by = await decisionBy(client, event);
      if (by !== undefined) decidedBy = by || undefined;
      const scheduled = event.activityTaskScheduledEventAttributes;
      const name = scheduled?.activityType?.name ?? '';
      if (CANCEL_NAMES.has(name) || isCloseEvent(event)) break;
      if (!RESUME_NAMES.has(name)) continue;
      const resume = (await decodeFirstPayload(client, scheduled!.input?.payloads)) as {
        action?: string;
        message?: string;
        idempotencyKey?: string;
      };
      if (!resume?.idempotencyKey?.endsWith(`/resume/${runEvent.id}`)) continue;
      yield {
        event: {
          type: 'decision',
          timestamp: eventTime(event),
          ...base,
          ...where,
          run_id: runId,
          request_id: runEvent.id,
          action: resume.action,
          ...(resume.message ? { message: sources.redact(resume.message) } : {}),
          ...(decidedBy ? { by: decidedBy } : { timed_out: true }),
        },
        source: `h:${event.runId}:${event.eventId}`,
      };
      decidedBy = undefined;
      break;
    }
  }
}

/** Who sent a decision this history event carries ('' for a decision without a name); undefined if none. */
async function decisionBy(client: Client, event: HistoryEvent): Promise<string | undefined> {
  let payloads: Payload[] | null | undefined;
  const signaled = event.workflowExecutionSignaledEventAttributes;
  if (signaled?.signalName === 'humanInput') payloads = signaled.input?.payloads;
  const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
  if (request?.input?.name === 'decide') payloads = request.input.args?.payloads;
  if (!payloads) return undefined;
  const decision = (await decodeFirstPayload(client, payloads)) as { by?: unknown };
  return typeof decision?.by === 'string' ? decision.by : '';
}

function fromRun(event: RunEvent, base: { process_id: string }, where: Where, redact: Redact): ProcessEvent {
  const { id, run_id, type, timestamp, ...rest } = event;
  const masked = JSON.parse(JSON.stringify(rest), (_key, value: unknown) =>
    typeof value === 'string' ? redact(value) : value,
  ) as Record<string, unknown>;
  return { type, timestamp, ...base, ...where, run_id, run_event_id: id, ...masked };
}

function whereOf(kind: Kind, workflowId: string, childId: string): Where {
  const tail = childId.startsWith(`${workflowId}/`) ? childId.slice(workflowId.length + 1) : childId;
  if (kind === 'batch') return { item: tail };
  return { step: tail.replace(/\/retry-\d+$/, '') };
}

function childIdOf(event: HistoryEvent): string {
  const attributes =
    event.childWorkflowExecutionCompletedEventAttributes ??
    event.childWorkflowExecutionFailedEventAttributes ??
    event.childWorkflowExecutionCanceledEventAttributes ??
    event.childWorkflowExecutionTimedOutEventAttributes ??
    event.childWorkflowExecutionTerminatedEventAttributes;
  return attributes?.workflowExecution?.workflowId ?? '';
}

function coastyStatusOf(event: HistoryEvent): unknown {
  const payload =
    event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CoastyStatus;
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload as Payload);
  } catch {
    return undefined;
  }
}

/** What a finished process ended with: status and cost, and for a failure its message. */
async function closeResult(client: Client, event: HistoryEvent): Promise<Record<string, unknown>> {
  const completed = event.workflowExecutionCompletedEventAttributes;
  if (completed) {
    const result = (await decodeFirstPayload(client, completed.result?.payloads)) as Record<string, unknown>;
    return { result: summaryOf(result) };
  }
  const failure = event.workflowExecutionFailedEventAttributes?.failure;
  return failure
    ? { error: { type: failure.applicationFailureInfo?.type ?? 'Error', message: failure.message } }
    : {};
}

function summaryOf(result: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const keep = [
    'status',
    'costUsd',
    'steps',
    'result',
    'error',
    'total',
    'succeeded',
    'failed',
    'skipped',
    'runId',
  ];
  const summary: Record<string, unknown> = {};
  for (const key of keep) {
    const value = result[key];
    // A chain's `steps` is the list of its steps: give their count and states, not every field.
    if (key === 'steps' && Array.isArray(value)) {
      summary.steps = value.map((step: { id?: string; state?: string }) => ({
        id: step.id,
        state: step.state,
      }));
    } else if (value !== undefined) summary[key] = value;
  }
  return summary;
}
