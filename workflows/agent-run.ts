import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunSummary, StreamCursor } from '../activities/types';
import type { Duration } from '@temporalio/common';
import type { CreateRunRequest, RunError, RunStatus } from '../api/types';
import { agentActivities } from './agent-activities';
import { executionTag } from './agent-input';
import { ApprovalInbox } from './approvals';
import {
  coastyStatusKey,
  decideUpdate,
  humanInputSignal,
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
    if (isValidDecision(decision)) inbox.offer(decision);
  });
  setHandler(
    decideUpdate,
    (decision: HumanDecision) => {
      const requestId = decision.requestId ?? inbox.openRequestId!;
      return { requestId, accepted: inbox.offer({ ...decision, requestId }) };
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
  setHandler(progressQuery, (): AgentRunProgress => ({
    kind: 'agentRun',
    status,
    runId: summary?.runId,
    steps: summary?.steps ?? 0,
    maxSteps: input.request.max_steps,
    costUsd: (summary?.costCents ?? 0) / 100,
    lastAction: summary?.lastAction,
    awaiting: inbox.isOpen() ? summary?.awaiting : undefined,
    approvals,
  }));

  // A parent that started this run with CoastyStatus set (`startsCreating`) saved an event and a visibility write.
  if (workflowInfo().typedSearchAttributes.get(coastyStatusKey) !== status) {
    upsertSearchAttributes([{ key: coastyStatusKey, value: status }]);
  }
  const { createRun, streamRun, resumeRun, cancelRun, getRunSummary } = agentActivities({
    streamHeartbeatTimeout: input.streamHeartbeatTimeout ?? '30s',
    streamTaskQueue: input.streamTaskQueue,
  });
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
    if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(async () => {
      await cancelRun({ runId: summary!.runId });
      const final = await getRunSummary({ runId: summary!.runId });
      summary = { ...summary!, status: final.status, steps: final.steps, costCents: final.costCents };
      setStatus(summary.status);
    });
    throw error;
  }

  return {
    runId: summary.runId,
    status: summary.status,
    steps: summary.steps,
    costUsd: summary.costCents / 100,
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

function isValidDecision(decision: HumanDecision | undefined): boolean {
  return decision?.action === 'approve' || decision?.action === 'reject';
}

function validateDecision(decision: HumanDecision): void {
  if (!isValidDecision(decision)) {
    throw new Error(`action must be "approve" or "reject", got ${JSON.stringify(decision?.action)}`);
  }
}
