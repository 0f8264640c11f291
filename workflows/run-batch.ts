// runBatch: one task template for many items. Each item is a child `batchItem` (agentRun that
// fails unless its run succeeded) with the id `<batch id>/<item key>` and the reuse policy
// ALLOW_DUPLICATE_FAILED_ONLY: starting the same batch id again redoes only what did not succeed;
// an item whose earlier child completed counts as skipped (one still running is waited for first).
//
// At most `concurrency` children at once, and each on its own machine of the pool: a machine is
// busy from its child's start until that child closes. A failed item with on_failure retry is
// started again under the same id (its previous child failed, so the policy allows it).
//
// Continue-as-new when the server suggests it: launching stops, the children in flight are
// drained (the new run could not await them), then all state goes to the next run.
// Status (CoastyStatus): running, paused, awaiting_budget, then completed or cancelled.
import {
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  sleep,
  startChild,
  type ChildWorkflowHandle,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RunError } from '../api/types';
import type { AgentRunInput, AgentRunResult } from './agent-run';
import { childSummary } from './agent-activities';
import { agentRunInput, cancelledByApprovalTimeout } from './agent-input';
import { batchItemWorkflowId, childStepKey, executionTag } from './ids';
import { BATCH_ITEM_FAILED, batchItem } from './batch-item';
import {
  batchResult,
  newBatchState,
  recordDoneBefore,
  recordFailure,
  recordSuccess,
  spendFailedAttempt,
  type BatchResult,
  type BatchState,
  type RetryJob,
} from './batch-state';
import { BudgetLimit } from './budget-limit';
import { centsToUsd } from '../core/money';
import { budgetWait, fitsBudget, worstCaseCents, type BudgetCheck } from './budget';
import { childFailure, runResultIn } from './child-failure';
import {
  leftoverProbeSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  startsCreating,
  type BatchProgress,
  type StepState,
} from './messages';
import { PATCHES } from './patches';
import { StatusAttribute } from './status-attribute';
import type { BatchSpec } from './process-types';
import { renderTemplate, TemplateError } from './templates';

export type { BatchResult, BatchState, BatchItemResult } from './batch-state';

type BatchStatus = BatchProgress['status'];

interface InFlight {
  job: RetryJob;
  key: string;
  workflowId: string;
  machineId: string;
  state: StepState;
  settled: Promise<void>;
}

type Outcome =
  | { kind: 'succeeded'; run: AgentRunResult }
  | { kind: 'doneBefore' }
  | { kind: 'failed'; run?: AgentRunResult; error: RunError; retryable: boolean };

export async function runBatch(spec: BatchSpec, carried?: BatchState): Promise<BatchResult> {
  const state = carried ?? newBatchState(spec);
  const info = workflowInfo();
  const runTag = executionTag(info.firstExecutionRunId);
  const total = spec.items.length;
  const limit = Math.max(1, Math.min(spec.concurrency, spec.machines.length));
  const runWorstCents = worstCaseCents(spec.stepDefaults.maxSteps);
  const inFlight = new Map<number, InFlight>();
  const busyMachines = new Set<string>();
  const status = new StatusAttribute<BatchStatus | undefined>(undefined);
  let budgetSince: string | undefined;
  let crash: unknown;

  const hasWork = () => state.retries.length > 0 || state.next < total;
  const slotFree = () => inFlight.size < limit;
  const budgetCheck = (): BudgetCheck => ({
    spentCents: state.costCents,
    inFlightWorstCents: inFlight.size * runWorstCents,
    nextWorstCents: runWorstCents,
    maxCostCents: budget.maxCostCents,
  });
  const canLaunch = () => hasWork() && !state.paused && slotFree() && fitsBudget(budgetCheck());

  // awaiting_budget only when the budget is what holds the next run back (not a full pool).
  const refreshStatus = () => {
    const blockedByBudget = hasWork() && !state.paused && slotFree() && !fitsBudget(budgetCheck());
    if (!blockedByBudget) budgetSince = undefined;
    else budgetSince ??= new Date().toISOString();
    status.set(state.paused ? 'paused' : blockedByBudget ? 'awaiting_budget' : 'running');
  };

  const budget = new BudgetLimit(state.maxCostCents, refreshStatus).listen();
  setHandler(pauseSignal, () => {
    state.paused = true;
    refreshStatus();
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    refreshStatus();
  });
  setHandler(progressQuery, (): BatchProgress => {
    const done = state.succeeded + state.skipped;
    return {
      kind: 'batch',
      name: spec.name,
      status: status.value ?? 'running',
      total,
      done,
      failed: state.failed,
      running: inFlight.size,
      pending: total - done - state.failed - inFlight.size,
      costUsd: centsToUsd(state.costCents),
      maxCostUsd: budget.maxCostCents === undefined ? undefined : centsToUsd(budget.maxCostCents),
      paused: state.paused,
      inFlight: [...inFlight.values()].map(({ key, workflowId, machineId, state: itemState }) => ({
        key,
        workflowId,
        machineId,
        state: itemState,
      })),
      budget: budgetSince ? budgetWait(budgetCheck(), budgetSince) : undefined,
      generation: state.generation,
      succeeded: state.succeeded,
      skipped: state.skipped,
      retrying: state.retries.length,
      concurrency: limit,
      maxInFlight: state.maxInFlight,
    };
  });

  const runItem = async (entry: InFlight): Promise<Outcome> => {
    const { job, key, machineId, workflowId } = entry;
    let task: string;
    try {
      task = renderTemplate(spec.taskTemplate, { input: spec.inputs, item: spec.items[job.index]!.fields });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { kind: 'failed', error: { type: 'template_error', message: error.message }, retryable: false };
    }
    const input = agentRunInput({ ...spec.stepDefaults, machineId }, task, childStepKey(runTag, job.attempt));
    try {
      const handle = await startItemChild(
        workflowId,
        childSummary(key, spec.taskTemplate),
        job.attempt,
        input,
      );
      // Workflow code cannot read a closed child's result: the earlier success is counted, cost 0 here.
      if (handle === 'doneBefore') return { kind: 'doneBefore' };
      entry.state = 'running';
      return { kind: 'succeeded', run: await handle.result() };
    } catch (error) {
      if (isCancellation(error) && CancellationScope.current().consideredCancelled) throw error;
      const failure = childFailure(error);
      const run = runResultIn(failure.details);
      const runError = run?.error ?? (run ? outcomeError(run, failure.error.message) : failure.error);
      // Only a run that failed or timed out is worth another run: not a person's "no", not a cancel.
      // A run agentRun itself cancelled because following it failed (not a BatchItemFailed) is worth one.
      const cancelledOnPurpose = run?.status === 'cancelled' && failure.error.type === BATCH_ITEM_FAILED;
      const retryable = !failure.cancelled && !cancelledOnPurpose && runError.type !== 'rejected_by_human';
      return { kind: 'failed', run, error: runError, retryable };
    }
  };

  const finish = (entry: InFlight, outcome: Outcome) => {
    inFlight.delete(entry.job.index);
    busyMachines.delete(entry.machineId);
    const { job } = entry;
    if (outcome.kind === 'doneBefore') recordDoneBefore(state, job.index);
    else if (outcome.kind === 'succeeded') recordSuccess(state, job, outcome.run);
    else {
      const spent = spendFailedAttempt(state, job, outcome.run);
      const { policy, maxRetries } = spec.stepDefaults.onFailure;
      if (outcome.retryable && policy === 'retry' && job.attempt <= maxRetries) {
        state.retries.push({ ...spent, attempt: job.attempt + 1 });
      } else {
        recordFailure(state, spent, outcome.run?.runId ?? null, outcome.error);
      }
    }
    refreshStatus();
  };

  const launch = () => {
    const job = state.retries.shift() ?? { index: state.next++, attempt: 1, costCents: 0, steps: 0 };
    const item = spec.items[job.index]!;
    const machineId = spec.machines.find((machine) => !busyMachines.has(machine))!;
    busyMachines.add(machineId);
    const entry: InFlight = {
      job,
      key: item.key,
      workflowId: batchItemWorkflowId(info.workflowId, item.key),
      machineId,
      state: 'creating',
      settled: Promise.resolve(),
    };
    inFlight.set(job.index, entry);
    state.maxInFlight = Math.max(state.maxInFlight, inFlight.size);
    entry.settled = runItem(entry).then(
      (outcome) => finish(entry, outcome),
      (error: unknown) => {
        if (!isCancellation(error)) crash ??= error;
      },
    );
  };

  const continueAsNewSuggested = () => workflowInfo().continueAsNewSuggested && hasWork();
  try {
    for (;;) {
      refreshStatus();
      if (crash !== undefined) throw crash;
      if (!hasWork() && inFlight.size === 0) break;
      if (continueAsNewSuggested()) {
        await condition(() => inFlight.size === 0 || crash !== undefined);
        if (crash !== undefined || !hasWork()) continue;
        await condition(allHandlersFinished);
        state.maxCostCents = budget.maxCostCents;
        state.generation += 1;
        await continueAsNew<typeof runBatch>(spec, state);
      }
      await condition(
        () =>
          canLaunch() ||
          crash !== undefined ||
          (!hasWork() && inFlight.size === 0) ||
          continueAsNewSuggested(),
      );
      if (canLaunch() && !continueAsNewSuggested() && crash === undefined) launch();
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The children were asked to cancel with this workflow; wait until each has cancelled its run.
    await CancellationScope.nonCancellable(() =>
      Promise.all([...inFlight.values()].map((entry) => entry.settled)),
    );
    status.set('cancelled');
    throw error;
  }

  status.set('completed');
  await condition(allHandlersFinished);
  return batchResult(spec, state);
}

/**
 * Starts an item's child. "Already started" on a first attempt means an execution with the item's id
 * exists: the server says so for a closed, completed one (the reuse policy refuses it: done before)
 * and for one still running, such as a child of an earlier execution of this batch that is still
 * cancelling its run. A running one is waited for (probed by a signal, on a backing-off timer), then
 * the start is tried again: it succeeds if that child did not succeed.
 */
async function startItemChild(
  workflowId: string,
  staticSummary: string,
  attempt: number,
  input: AgentRunInput,
): Promise<ChildWorkflowHandle<typeof batchItem> | 'doneBefore'> {
  let closedBefore = false;
  for (let waitSeconds = 2; ; waitSeconds = Math.min(waitSeconds * 2, 60)) {
    try {
      return await startChild(batchItem, {
        ...startsCreating,
        workflowId,
        staticSummary,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || attempt !== 1) throw error;
      if (!patched(PATCHES.batchWaitsForLeftover)) return 'doneBefore';
      if (!(await isRunning(workflowId))) {
        // Closed and still refused: it completed. (Closed between the start and the probe: try once more.)
        if (closedBefore) return 'doneBefore';
        closedBefore = true;
        continue;
      }
      log.info(`item ${workflowId} is still running from an earlier execution: waiting for it`);
      await sleep(waitSeconds * 1000);
    }
  }
}

async function isRunning(workflowId: string): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(leftoverProbeSignal);
    return true;
  } catch {
    return false;
  }
}

function outcomeError(run: AgentRunResult, message: string): RunError {
  return cancelledByApprovalTimeout(run)
    ? { type: 'approval_timed_out', message: 'nobody decided in time; the run was cancelled' }
    : { type: run.status, message };
}
