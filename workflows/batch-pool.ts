// The children of a batch in flight: at most `limit` at once, each on its own machine of the pool,
// from its start until it closes. What each ends with goes into the batch's state.
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  sleep,
  startChild,
  type ChildWorkflowHandle,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RunError } from '../api/types';
import type { AgentRunInput, AgentRunResult } from './agent-run';
import { childSummary } from './agent-activities';
import { agentRunInput, cancelledByApprovalTimeout } from './agent-input';
import { BATCH_ITEM_FAILED, batchItem } from './batch-item';
import {
  recordDoneBefore,
  recordFailure,
  recordSuccess,
  spendFailedAttempt,
  type BatchState,
  type RetryJob,
} from './batch-state';
import { childFailure, runResultIn } from './child-failure';
import { batchItemWorkflowId, childStepKey } from './ids';
import { leftoverProbeSignal, startsCreating, type StepState } from './messages';
import { PATCHES } from './patches';
import type { BatchSpec } from './process-types';
import { renderTemplate, TemplateError } from './templates';

export interface InFlight {
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

export class BatchPool {
  readonly inFlight = new Map<number, InFlight>();
  private readonly busyMachines = new Set<string>();
  /** The first error of a child that is not a cancellation: the batch fails with it. */
  crash: unknown;

  constructor(
    private readonly spec: BatchSpec,
    private readonly state: BatchState,
    private readonly batchId: string,
    private readonly runTag: string,
    /** Called after each child's outcome is recorded. */
    private readonly onSettled: () => void,
  ) {}

  get size(): number {
    return this.inFlight.size;
  }

  /** Starts the next item (a retry first) on a free machine. */
  launch(): void {
    const { spec, state, inFlight } = this;
    const job = state.retries.shift() ?? { index: state.next++, attempt: 1, costCents: 0, steps: 0 };
    const item = spec.items[job.index]!;
    const machineId = spec.machines.find((machine) => !this.busyMachines.has(machine))!;
    this.busyMachines.add(machineId);
    const entry: InFlight = {
      job,
      key: item.key,
      workflowId: batchItemWorkflowId(this.batchId, item.key),
      machineId,
      state: 'creating',
      settled: Promise.resolve(),
    };
    inFlight.set(job.index, entry);
    state.maxInFlight = Math.max(state.maxInFlight, inFlight.size);
    entry.settled = this.runItem(entry).then(
      (outcome) => this.finish(entry, outcome),
      (error: unknown) => {
        if (!isCancellation(error)) this.crash ??= error;
      },
    );
  }

  /** Resolves once every child in flight has settled (after a cancel: has cancelled its run). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((entry) => entry.settled));
  }

  private async runItem(entry: InFlight): Promise<Outcome> {
    const { spec } = this;
    const { job, key, machineId, workflowId } = entry;
    let task: string;
    try {
      task = renderTemplate(spec.taskTemplate, { input: spec.inputs, item: spec.items[job.index]!.fields });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { kind: 'failed', error: { type: 'template_error', message: error.message }, retryable: false };
    }
    const input = agentRunInput(
      { ...spec.stepDefaults, machineId },
      task,
      childStepKey(this.runTag, job.attempt),
    );
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
  }

  private finish(entry: InFlight, outcome: Outcome): void {
    const { state } = this;
    this.inFlight.delete(entry.job.index);
    this.busyMachines.delete(entry.machineId);
    const { job } = entry;
    if (outcome.kind === 'doneBefore') recordDoneBefore(state, job.index);
    else if (outcome.kind === 'succeeded') recordSuccess(state, job, outcome.run);
    else {
      const spent = spendFailedAttempt(state, job, outcome.run);
      const { policy, maxRetries } = this.spec.stepDefaults.onFailure;
      if (outcome.retryable && policy === 'retry' && job.attempt <= maxRetries) {
        state.retries.push({ ...spent, attempt: job.attempt + 1 });
      } else {
        recordFailure(state, spent, outcome.run?.runId ?? null, outcome.error);
      }
    }
    this.onSettled();
  }
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
