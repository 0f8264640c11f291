// One agent step of a chain: a child agentRun per attempt, the step's failure policy applied.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  isCancellation,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import type { RunError } from '../api/types';
import { agentRun, type AgentRunInput, type AgentRunResult } from './agent-run';
import { childSummary } from './agent-activities';
import { agentRunInput, cancelledByApprovalTimeout } from './agent-input';
import { usdToCents } from '../core/money';
import { worstCaseCents } from './budget';
import { childFailure, runResultIn } from './child-failure';
import type { ChildForwarder } from './child-forwarder';
import { chainStepWorkflowId, childStepKey } from './ids';
import { startsCreating } from './messages';
import type { AgentStepSpec } from './process-types';
import type { StepRecord, StepVerdict } from './chain-result';

export interface AgentStepContext {
  chainId: string;
  /** Short, unique per chain execution: a chain started again with the same id makes new runs. */
  runTag: string;
  child: ChildForwarder;
  render(template: string, stepId: string): string;
  /** Returns when spent + this run's worst case fits the budget (or there is none). */
  waitForBudget(worstCents: number): Promise<void>;
}

type Outcome = { result: AgentRunResult } | { error: RunError; cancelled: boolean; run?: AgentRunResult };

export async function runAgentStep(
  step: AgentStepSpec,
  record: StepRecord,
  context: AgentStepContext,
): Promise<StepVerdict> {
  const { policy, maxRetries } = step.onFailure;
  for (let attempt = 1; ; attempt++) {
    await context.waitForBudget(worstCaseCents(step.maxSteps));
    const workflowId = chainStepWorkflowId(context.chainId, step.id, attempt);
    const task = context.render(step.task, step.id);
    Object.assign(record, { state: 'creating', workflowId, attempts: attempt, runId: undefined });
    const input = agentRunInput(step, task, childStepKey(context.runTag, attempt));
    const outcome = await runChild(
      workflowId,
      childSummary(step.id, step.task),
      input,
      record,
      context.child,
    );

    if ('result' in outcome) {
      const run = outcome.result;
      Object.assign(record, { runId: run.runId, state: run.status, result: run.result, error: run.error });
      record.steps += run.steps;
      record.costCents += usdToCents(run.costUsd);
      record.approvals.push(...run.approvals);
      if (run.status === 'succeeded') return 'next';
      if (run.status === 'cancelled') {
        if (step.approvalTimeoutPolicy === 'fail' && cancelledByApprovalTimeout(run)) {
          throw ApplicationFailure.nonRetryable(
            `No decision for step "${step.id}" within the approval timeout; run ${run.runId} was cancelled`,
            'ApprovalTimedOut',
          );
        }
        return 'cancel';
      }
    } else {
      Object.assign(record, {
        state: outcome.cancelled ? 'cancelled' : 'failed',
        result: null,
        error: outcome.error,
      });
      // A failed child still billed its steps (agentRun says so in the failure): the budget counts them.
      if (outcome.run) {
        record.runId = outcome.run.runId;
        record.steps += outcome.run.steps;
        record.costCents += usdToCents(outcome.run.costUsd);
      }
      if (outcome.cancelled) return 'cancel';
    }

    // A person's "no" is an answer, not a fault: it is never retried.
    const retry = policy === 'retry' && attempt <= maxRetries && record.error?.type !== 'rejected_by_human';
    if (!retry) return policy === 'continue' ? 'next' : 'stop';
  }
}

async function runChild(
  workflowId: string,
  staticSummary: string,
  input: AgentRunInput,
  record: StepRecord,
  forwarder: ChildForwarder,
): Promise<Outcome> {
  forwarder.begin(workflowId);
  try {
    const handle = await startChild(agentRun, {
      ...startsCreating,
      workflowId,
      staticSummary,
      args: [input],
      // Cancelling the chain cancels the child, and the chain waits until the child has cancelled
      // its remote run. If the chain is terminated instead, the child is asked to cancel too.
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    record.state = 'running';
    await forwarder.attach(handle);
    return { result: await handle.result() };
  } catch (error) {
    if (isCancellation(error) && CancellationScope.current().consideredCancelled) throw error;
    const failure = childFailure(error);
    return { error: failure.error, cancelled: failure.cancelled, run: runResultIn(failure.details) };
  } finally {
    forwarder.end();
  }
}
