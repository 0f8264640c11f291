import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunSummary, StreamCursor } from '../activities/types';
import type { Duration } from '@temporalio/common';
import { isTerminalStatus, type CreateRunRequest, type RunError, type RunStatus } from '../api/types';
import { centsToUsd } from '../core/money';
import { agentActivities, type AgentActivities } from './agent-activities';
import { executionTag } from './agent-input';
import { ApprovalInbox } from './approvals';
import { isValidDecision, validateDecision } from './decision-rules';
import { offerDecision, PATCHES } from './patches';
import {
  coastyStatusKey,
  decideUpdate,
  humanInputSignal,
  leftoverProbeSignal,
  progressQuery,
  type AgentRunProgress,
  type ApprovalRecord,
  type CoastyStatus,
  type HumanDecision,
} from './messages';
import { upsertSearchAttributes } from './search-attributes';

export type ApprovalTimeoutPolicy = 'reject' | 'cancel' | 'fail';

export interface AgentRunInput {
  request: CreateRunRequest;
  /** Distinguishes runs of one workflow in the idempotency key (a retry of a chain step is a new key). */
  stepKey?: string;
  /** How long a pause waits for a person (default 24 hours). */
  approvalTimeout?: Duration;
  approvalTimeoutPolicy?: ApprovalTimeoutPolicy;
  /** Heartbeat timeout of the stream activity (default 30 s); a dead worker is noticed after it. */
  streamHeartbeatTimeout?: Duration;
  /** Task queue of the stream activity (a dedicated pool of stream workers); default: this workflow's. */
  streamTaskQueue?: string;
}

export interface AgentRunResult {
  runId: string;
  status: RunStatus;
  steps: number;
  costUsd: number;
  result: string | null;
  error: RunError | null;
  approvals: ApprovalRecord[];
  /** How the events arrived: each handled once; drops cost reconnects, crashes cost stream retries. */
  delivery: { eventsHandled: number; reconnects: number; streamRetries: number };
}

export async function agentRun(input: AgentRunInput): Promise<AgentRunResult> {
  const inbox = new ApprovalInbox();
  const approvals: ApprovalRecord[] = [];
  let status: CoastyStatus = 'creating';
  let summary: RunSummary | undefined;
  let cursor: StreamCursor | undefined;

  const setStatus = (next: CoastyStatus) => {
    if (next === status) return;
    status = next;
    upsertSearchAttributes([{ key: coastyStatusKey, value: next }]);
  };

  setHandler(humanInputSignal, (decision: HumanDecision) => {
    if (isValidDecision(decision)) offerDecision(inbox, decision);
  });
  setHandler(
    decideUpdate,
    (decision: HumanDecision) => {
      const requestId = decision.requestId ?? inbox.openRequestId!;
      return { requestId, accepted: offerDecision(inbox, { ...decision, requestId }) };
    },
    {
      validator: (decision: HumanDecision) => {
        validateDecision(decision);
        if (!inbox.isOpen())
          throw new Error(
            `run ${summary?.runId ?? '(not created yet)'} is not waiting for a person (status ${status})`,
          );
        if (!inbox.isOpen(decision.requestId)) {
          throw new Error(`pause ${decision.requestId} is not the open one (${inbox.openRequestId})`);
        }
      },
    },
  );
  setHandler(leftoverProbeSignal, () => undefined);
  setHandler(progressQuery, (): AgentRunProgress => ({
    kind: 'agentRun',
    status,
    runId: summary?.runId,
    steps: summary?.steps ?? 0,
    maxSteps: input.request.max_steps,
    costUsd: centsToUsd(summary?.costCents ?? 0),
    lastAction: summary?.lastAction,
    awaiting: inbox.isOpen() ? summary?.awaiting : undefined,
    approvals,
  }));

  // A parent that started this run with CoastyStatus set (`startsCreating`) saved an event and a visibility write.
  if (workflowInfo().typedSearchAttributes.get(coastyStatusKey) !== status) {
    upsertSearchAttributes([{ key: coastyStatusKey, value: status }]);
  }
  const activities = agentActivities({
    streamHeartbeatTimeout: input.streamHeartbeatTimeout ?? '30s',
    streamTaskQueue: input.streamTaskQueue,
  });
  const { createRun, streamRun, resumeRun, cancelRun, getRunSummary } = activities;
  const timeoutPolicy = input.approvalTimeoutPolicy ?? 'reject';
  // Same on every retry and replay of this execution; different when the workflow id is started again.
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const idempotencyKey = `${workflowId}/${executionTag(firstExecutionRunId)}/${input.stepKey ?? 'run'}`;

  // Creating is never interrupted: once the POST may have happened we must know the run id to cancel it.
  const created = await CancellationScope.nonCancellable(() =>
    createRun({ idempotencyKey, request: input.request }),
  );
  summary = { runId: created.runId, status: created.status, steps: 0, costCents: 0, eventsHandled: 0 };
  setStatus(created.status);
  const returnOnAwaitingHuman = (input.request.on_awaiting_human ?? 'pause') === 'pause';

  try {
    if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
    for (;;) {
      cursor = await streamRun({ runId: summary.runId, from: cursor, returnOnAwaitingHuman });
      summary = cursor.summary;
      setStatus(summary.status);
      if (summary.status !== 'awaiting_human' || !summary.awaiting) break;

      const pause = summary.awaiting;
      inbox.open(pause.requestId);
      const decided = await condition(
        () => inbox.peek(pause.requestId) !== undefined,
        input.approvalTimeout ?? '24h',
      );
      const decision = inbox.peek(pause.requestId);
      inbox.close(pause.requestId);
      const at = new Date().toISOString();

      if (decided && decision) {
        approvals.push({ requestId: pause.requestId, reason: pause.reason, ...decision, at });
        await resumeRun({
          runId: summary.runId,
          action: decision.action,
          message: decision.message,
          idempotencyKey: `${idempotencyKey}/resume/${pause.requestId}`,
          pauseSince: pause.since,
        });
      } else if (timeoutPolicy === 'reject') {
        approvals.push({
          requestId: pause.requestId,
          reason: pause.reason,
          action: 'reject',
          message: 'approval timed out',
          at,
          timedOut: true,
        });
        await resumeRun({
          runId: summary.runId,
          action: 'reject',
          message: 'approval timed out',
          idempotencyKey: `${idempotencyKey}/resume/${pause.requestId}`,
          pauseSince: pause.since,
        });
      } else {
        approvals.push({
          requestId: pause.requestId,
          reason: pause.reason,
          action: 'reject',
          message: `approval timed out (policy ${timeoutPolicy})`,
          at,
          timedOut: true,
        });
        await cancelRun({ runId: summary.runId });
        if (timeoutPolicy === 'fail') {
          setStatus('failed');
          throw ApplicationFailure.nonRetryable(
            `No decision for "${pause.reason}" within the approval timeout; run ${summary.runId} was cancelled`,
            'ApprovalTimedOut',
          );
        }
      }
      setStatus('running');
    }
  } catch (error) {
    if (!patched(PATCHES.cleanupOnEveryExit)) {
      if (!isCancellation(error)) throw error;
      await CancellationScope.nonCancellable(async () => {
        await cancelRun({ runId: summary!.runId });
        const final = await getRunSummary({ runId: summary!.runId });
        summary = { ...summary!, status: final.status, steps: final.steps, costCents: final.costCents };
        setStatus(summary.status);
      });
      throw error;
    }
    // Decided from the workflow's own state: with a dead stream worker a cancel reaches us as an
    // activity timeout or failure, not as a CancelledFailure.
    const cancelled = CancellationScope.current().consideredCancelled;
    summary = await stopRemoteRun(activities, summary, error);
    setStatus(cancelled ? 'cancelled' : 'failed');
    if (cancelled) throw isCancellation(error) ? error : new CancelledFailure('agentRun was cancelled');
    throw failureWithCost(error, result(summary, approvals, cursor));
  }

  return result(summary, approvals, cursor);
}

function result(
  summary: RunSummary,
  approvals: ApprovalRecord[],
  cursor: StreamCursor | undefined,
): AgentRunResult {
  return {
    runId: summary.runId,
    status: summary.status,
    steps: summary.steps,
    costUsd: centsToUsd(summary.costCents),
    result: summary.result ?? null,
    error: summary.error ?? null,
    approvals,
    delivery: {
      eventsHandled: summary.eventsHandled,
      reconnects: cursor?.reconnects ?? 0,
      streamRetries: cursor?.retries ?? 0,
    },
  };
}

/**
 * The run goes on billing unless it is stopped: cancel it (unless it ended) and read what it cost.
 * Never interrupted. A refused key is retried by the activities until a worker has a valid one
 * (activities/failures.ts keyRefused); a cleanup that still cannot finish is logged, and the
 * workflow fails with its first error.
 */
async function stopRemoteRun(
  { cancelRun, getRunSummary }: AgentActivities,
  summary: RunSummary,
  cause: unknown,
): Promise<RunSummary> {
  return CancellationScope.nonCancellable(async () => {
    try {
      if (!isTerminalStatus(summary.status)) await cancelRun({ runId: summary.runId });
      const final = await getRunSummary({ runId: summary.runId });
      return { ...summary, status: final.status, steps: final.steps, costCents: final.costCents };
    } catch (error) {
      log.error(
        `run ${summary.runId} could not be cancelled after "${(cause as Error)?.message}": ${(error as Error).message}`,
      );
      return summary;
    }
  });
}

/** The failure as the workflow's own, non-retryable, with the run's result (steps, cost) for parents to count. */
function failureWithCost(error: unknown, partial: AgentRunResult): ApplicationFailure {
  const root = rootApplicationFailure(error);
  const type = root?.type ?? (error as Error)?.name ?? 'Error';
  const message = root?.message ?? (error as Error)?.message ?? String(error);
  return ApplicationFailure.create({
    type,
    message: `${message} (run ${partial.runId} ended ${partial.status} after ${partial.steps} steps, USD ${partial.costUsd.toFixed(2)})`,
    nonRetryable: true,
    details: [{ ...partial, error: partial.error ?? { type, message } }],
    cause: error instanceof Error ? error : undefined,
  });
}

function rootApplicationFailure(error: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let cause = error, depth = 0; cause && depth < 10; depth++) {
    if (cause instanceof ApplicationFailure) found = cause;
    cause = (cause as Error).cause;
  }
  return found;
}
