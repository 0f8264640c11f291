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
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { centsToUsd } from '../core/money';
import { BatchPool } from './batch-pool';
import { batchResult, newBatchState, type BatchResult, type BatchState } from './batch-state';
import { BudgetLimit } from './budget-limit';
import { budgetWait, fitsBudget, worstCaseCents, type BudgetCheck } from './budget';
import { executionTag } from './ids';
import { pauseSignal, progressQuery, resumeSignal, type BatchProgress } from './messages';
import { StatusAttribute } from './status-attribute';
import type { BatchSpec } from './process-types';

export type { BatchResult, BatchState, BatchItemResult } from './batch-state';

type BatchStatus = BatchProgress['status'];

export async function runBatch(spec: BatchSpec, carried?: BatchState): Promise<BatchResult> {
  const state = carried ?? newBatchState(spec);
  const info = workflowInfo();
  const batch = new BatchRun(spec, state, info.workflowId, executionTag(info.firstExecutionRunId));
  const { pool } = batch;
  batch.listen();

  const finished = () => !batch.hasWork() && pool.size === 0;
  const continueAsNewSuggested = () => workflowInfo().continueAsNewSuggested && batch.hasWork();
  try {
    for (;;) {
      batch.refreshStatus();
      if (pool.crash !== undefined) throw pool.crash;
      if (finished()) break;
      if (continueAsNewSuggested()) {
        await condition(() => pool.size === 0 || pool.crash !== undefined);
        if (pool.crash !== undefined || !batch.hasWork()) continue;
        await condition(allHandlersFinished);
        state.maxCostCents = batch.budget.maxCostCents;
        state.generation += 1;
        await continueAsNew<typeof runBatch>(spec, state);
      }
      await condition(
        () => batch.canLaunch() || pool.crash !== undefined || finished() || continueAsNewSuggested(),
      );
      if (batch.canLaunch() && !continueAsNewSuggested() && pool.crash === undefined) pool.launch();
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The children were asked to cancel with this workflow; wait until each has cancelled its run.
    await CancellationScope.nonCancellable(() => pool.drain());
    batch.status.set('cancelled');
    throw error;
  }

  batch.status.set('completed');
  await condition(allHandlersFinished);
  return batchResult(spec, state);
}

/** A batch's state as its handlers see it: the pool of children, the budget, pause, the status. */
class BatchRun {
  readonly pool: BatchPool;
  readonly budget: BudgetLimit;
  readonly status = new StatusAttribute<BatchStatus | undefined>(undefined);
  private readonly limit: number;
  private readonly runWorstCents: number;
  private budgetSince: string | undefined;

  constructor(
    private readonly spec: BatchSpec,
    private readonly state: BatchState,
    batchId: string,
    runTag: string,
  ) {
    this.limit = Math.max(1, Math.min(spec.concurrency, spec.machines.length));
    this.runWorstCents = worstCaseCents(spec.stepDefaults.maxSteps);
    this.pool = new BatchPool(spec, state, batchId, runTag, () => this.refreshStatus());
    this.budget = new BudgetLimit(state.maxCostCents, () => this.refreshStatus());
  }

  hasWork(): boolean {
    return this.state.retries.length > 0 || this.state.next < this.spec.items.length;
  }

  canLaunch(): boolean {
    return this.hasWork() && !this.state.paused && this.slotFree() && fitsBudget(this.budgetCheck());
  }

  /** awaiting_budget only when the budget is what holds the next run back (not a full pool). */
  refreshStatus(): void {
    const { state } = this;
    const blockedByBudget =
      this.hasWork() && !state.paused && this.slotFree() && !fitsBudget(this.budgetCheck());
    if (!blockedByBudget) this.budgetSince = undefined;
    else this.budgetSince ??= new Date().toISOString();
    this.status.set(state.paused ? 'paused' : blockedByBudget ? 'awaiting_budget' : 'running');
  }

  /** raiseBudget, pause and resume, and the progress query. */
  listen(): void {
    this.budget.listen();
    setHandler(pauseSignal, () => {
      this.state.paused = true;
      this.refreshStatus();
    });
    setHandler(resumeSignal, () => {
      this.state.paused = false;
      this.refreshStatus();
    });
    setHandler(progressQuery, () => this.progress());
  }

  private slotFree(): boolean {
    return this.pool.size < this.limit;
  }

  private budgetCheck(): BudgetCheck {
    return {
      spentCents: this.state.costCents,
      inFlightWorstCents: this.pool.size * this.runWorstCents,
      nextWorstCents: this.runWorstCents,
      maxCostCents: this.budget.maxCostCents,
    };
  }

  private progress(): BatchProgress {
    const { spec, state, budget, budgetSince } = this;
    const { inFlight } = this.pool;
    const total = spec.items.length;
    const done = state.succeeded + state.skipped;
    return {
      kind: 'batch',
      name: spec.name,
      status: this.status.value ?? 'running',
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
      budget: budgetSince ? budgetWait(this.budgetCheck(), budgetSince) : undefined,
      generation: state.generation,
      succeeded: state.succeeded,
      skipped: state.skipped,
      retrying: state.retries.length,
      concurrency: this.limit,
      maxInFlight: state.maxInFlight,
    };
  }
}
