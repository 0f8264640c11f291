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
import type { AwaitingHumanInfo, RunSummary, StreamCursor } from '../activities/types';
import type { Duration } from '@temporalio/common';
import { isTerminalStatus, type CreateRunRequest, type RunError, type RunStatus } from '../api/types';
import { centsToUsd } from '../core/money';
import { agentActivities, type AgentActivities } from './agent-activities';
import { ApprovalInbox, timedOutApproval } from './approvals';
import { resumeIdempotencyKey, runIdempotencyKey } from './ids';
import { isValidDecision, validateDecision } from './decision-rules';
import { offerDecision, PATCHES, webhookHintsForwardOnly } from './patches';
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
import type { ApprovalTimeoutPolicy, Delivery } from './process-types';
import { recordDecision, RunMeter } from './metrics';
import { StatusAttribute } from './status-attribute';
import { DEFAULT_RECONCILE_EVERY, followByWebhook, listenForRunState, RunStateInbox } from './webhook-follow';

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
  /**
   * `stream` (default): an activity follows the run's event stream. `webhook`: the run posts its events
   * to the worker's receiver (COASTY_WEBHOOK_URL), which signals this workflow on state changes only.
   */
  delivery?: Delivery;
  /** Webhook delivery: how long to wait without a webhook before reading the run itself (default 5 minutes). */
  reconcileEvery?: Duration;
}

export interface AgentRunResult {
  runId: string;
  status: RunStatus;
  steps: number;
  costUsd: number;
  result: string | null;
  error: RunError | null;
  approvals: ApprovalRecord[];
  /**
   * How the events arrived: each handled once; drops cost reconnects, crashes cost stream retries.
   * Webhook delivery: `eventsHandled` counts state changes signalled, `webhook.reads` the run reads.
   */
  delivery: {
    eventsHandled: number;
    reconnects: number;
    streamRetries: number;
    webhook?: { signals: number; reads: number };
  };
}

export async function agentRun(input: AgentRunInput): Promise<AgentRunResult> {
  const run: RunState = {
    inbox: new ApprovalInbox(),
    approvals: [],
    status: new StatusAttribute<CoastyStatus>('creating'),
    meter: new RunMeter(),
  };
  listenForDecisions(run, input);
  const webhook =
    input.delivery === 'webhook'
      ? { inbox: new RunStateInbox({ forwardOnly: webhookHintsForwardOnly }), reads: 0 }
      : undefined;
  if (webhook) listenForRunState(webhook.inbox);

  // A parent that started this run with CoastyStatus set (`startsCreating`) saved an event and a visibility write.
  if (workflowInfo().typedSearchAttributes.get(coastyStatusKey) !== run.status.value) run.status.write();
  const activities = agentActivities({
    streamHeartbeatTimeout: input.streamHeartbeatTimeout ?? '30s',
    streamTaskQueue: input.streamTaskQueue,
  });
  const { createRun, streamRun, cancelRun, getRunSummary } = activities;
  const readRun = webhook && patched(PATCHES.webhookReadsInTask) ? activities.readRunInTask : getRunSummary;
  // Same on every retry and replay of this execution; different when the workflow id is started again.
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const idempotencyKey = runIdempotencyKey(workflowId, firstExecutionRunId, input.stepKey);

  // Creating is never interrupted: once the POST may have happened we must know the run id to cancel it.
  const created = await CancellationScope.nonCancellable(() =>
    createRun({ idempotencyKey, request: input.request, ...(webhook ? { webhook: true as const } : {}) }),
  );
  webhook?.inbox.follow(created.runId);
  let summary: RunSummary = (run.summary = {
    runId: created.runId,
    status: created.status,
    steps: 0,
    costCents: 0,
    eventsHandled: 0,
  });
  run.status.set(created.status);
  run.meter.created();
  const returnOnAwaitingHuman = (input.request.on_awaiting_human ?? 'pause') === 'pause';

  try {
    if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
    for (;;) {
      if (webhook) {
        const followed = await followByWebhook(webhook.inbox, readRun, {
          runId: summary.runId,
          // After a decision the run goes on: running, whatever the last read said.
          known: summary.status === 'awaiting_human' ? 'running' : summary.status,
          answered: run.approvals.at(-1)?.requestId,
          returnOnAwaitingHuman,
          reconcileEvery: input.reconcileEvery ?? DEFAULT_RECONCILE_EVERY,
          onStatus: (status) => run.status.set(status),
        });
        webhook.reads += followed.reads;
        summary = run.summary = { ...followed.summary, eventsHandled: webhook.inbox.signals };
        run.meter.progress(summary);
      } else {
        run.cursor = await streamRun({ runId: summary.runId, from: run.cursor, returnOnAwaitingHuman });
        summary = run.summary = run.cursor.summary;
        run.meter.progress(summary, run.cursor);
      }
      run.status.set(summary.status);
      if (summary.status !== 'awaiting_human' || !summary.awaiting) break;
      await answerPause(run, summary.awaiting, { input, activities, idempotencyKey });
      run.status.set('running');
    }
  } catch (error) {
    if (!patched(PATCHES.cleanupOnEveryExit)) {
      if (!isCancellation(error)) throw error;
      await CancellationScope.nonCancellable(async () => {
        await cancelRun({ runId: summary.runId });
        const final = await getRunSummary({ runId: summary.runId });
        summary = run.summary = {
          ...summary,
          status: final.status,
          steps: final.steps,
          costCents: final.costCents,
        };
        run.status.set(summary.status);
      });
      throw error;
    }
    // Decided from the workflow's own state: with a dead stream worker a cancel reaches us as an
    // activity timeout or failure, not as a CancelledFailure.
    const cancelled = CancellationScope.current().consideredCancelled;
    summary = run.summary = await stopRemoteRun(activities, summary, error);
    run.meter.progress(summary);
    run.meter.finished(summary.status);
    run.status.set(cancelled ? 'cancelled' : 'failed');
    if (cancelled) throw isCancellation(error) ? error : new CancelledFailure('agentRun was cancelled');
    throw failureWithCost(error, result(summary, run.approvals, run.cursor, webhook));
  }

  run.meter.finished(summary.status);
  return result(summary, run.approvals, run.cursor, webhook);
}

/** What agentRun's handlers read and its steps write. */
interface RunState {
  inbox: ApprovalInbox;
  approvals: ApprovalRecord[];
  status: StatusAttribute<CoastyStatus>;
  meter: RunMeter;
  summary?: RunSummary;
  cursor?: StreamCursor;
}

/** The decision signal and update (each for the open pause only), the leftover probe, the progress query. */
function listenForDecisions(run: RunState, input: AgentRunInput): void {
  const { inbox } = run;
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
            `run ${run.summary?.runId ?? '(not created yet)'} is not waiting for a person (status ${run.status.value})`,
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
    status: run.status.value,
    runId: run.summary?.runId,
    steps: run.summary?.steps ?? 0,
    maxSteps: input.request.max_steps,
    costUsd: centsToUsd(run.summary?.costCents ?? 0),
    lastAction: run.summary?.lastAction,
    awaiting: inbox.isOpen() ? run.summary?.awaiting : undefined,
    approvals: run.approvals,
    ...(input.delivery === 'webhook' ? { delivery: 'webhook' as const } : {}),
  }));
}

/**
 * Waits for a person's decision on the pause and resumes the run with it. Nobody in time: the
 * timeout policy rejects (resume), or cancels the run; `fail` then fails this workflow too.
 */
async function answerPause(
  run: RunState,
  pause: AwaitingHumanInfo,
  {
    input,
    activities,
    idempotencyKey,
  }: { input: AgentRunInput; activities: AgentActivities; idempotencyKey: string },
): Promise<void> {
  const { inbox, approvals } = run;
  const { runId } = run.summary!;
  const timeoutPolicy = input.approvalTimeoutPolicy ?? 'reject';
  inbox.open(pause.requestId);
  const decided = await condition(
    () => inbox.peek(pause.requestId) !== undefined,
    input.approvalTimeout ?? '24h',
  );
  const decision = inbox.peek(pause.requestId);
  inbox.close(pause.requestId);
  const at = new Date().toISOString();
  const resume = (action: HumanDecision['action'], message: string | undefined) =>
    activities.resumeRun({
      runId,
      action,
      message,
      idempotencyKey: resumeIdempotencyKey(idempotencyKey, pause.requestId),
      pauseSince: pause.since,
    });

  recordDecision(decided && decision ? decision.action : 'timeout', Date.parse(at) - Date.parse(pause.since));
  if (decided && decision) {
    approvals.push({ requestId: pause.requestId, reason: pause.reason, ...decision, at });
    await resume(decision.action, decision.message);
    return;
  }
  const timedOut = timedOutApproval(pause.requestId, pause.reason, timeoutPolicy, at);
  approvals.push(timedOut);
  if (timeoutPolicy === 'reject') {
    await resume('reject', timedOut.message);
    return;
  }
  await activities.cancelRun({ runId });
  if (timeoutPolicy === 'fail') {
    run.status.set('failed');
    throw ApplicationFailure.nonRetryable(
      `No decision for "${pause.reason}" within the approval timeout; run ${runId} was cancelled`,
      'ApprovalTimedOut',
    );
  }
}

function result(
  summary: RunSummary,
  approvals: ApprovalRecord[],
  cursor: StreamCursor | undefined,
  webhook?: { inbox: RunStateInbox; reads: number },
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
      ...(webhook ? { webhook: { signals: webhook.inbox.signals, reads: webhook.reads } } : {}),
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
