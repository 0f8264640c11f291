// runChain: the steps of a process in order. An agent step is a child agentRun with the id
// `<chain id>/<step id>` (a retry: `<chain id>/<step id>/retry-N`, a new run); an approval gate
// waits for a person on the chain itself. Decisions sent to the chain while an agent step runs
// are forwarded to that child.
//
// Status (search attribute CoastyStatus): running, awaiting_human (a gate waits), awaiting_budget,
// then succeeded, failed or cancelled. While a child run waits for a person the chain stays
// `running` and the child's own CoastyStatus says awaiting_human: the child (listed too, id
// `<chain id>/<step id>`) is what waits, and approving either id reaches it.
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { executionTag } from './ids';
import { ApprovalInbox } from './approvals';
import { BudgetLimit } from './budget-limit';
import { centsToUsd } from '../core/money';
import { budgetWait, fitsBudget, type BudgetCheck } from './budget';
import { runAgentStep, type AgentStepContext } from './chain-agent-step';
import type { ChainApproval, ChainResult, ChainStatus, StepRecord, StepVerdict } from './chain-result';
import { awaitGate } from './chain-gate';
import { ChildForwarder } from './child-forwarder';
import { isValidDecision } from './decision-rules';
import { routeSignal, routeUpdate, type DecisionTargets } from './decisions';
import { offerDecision } from './patches';
import {
  decideUpdate,
  humanInputSignal,
  progressQuery,
  type ChainProgress,
  type CoastyStatus,
  type DecisionAck,
  type HumanDecision,
} from './messages';
import { StatusAttribute } from './status-attribute';
import type { ChainSpec } from './process-types';
import { renderTemplate, TemplateError, type TemplateStepOutput } from './templates';

export type { ChainResult, ChainStepResult } from './chain-result';

export async function runChain(spec: ChainSpec): Promise<ChainResult> {
  const info = workflowInfo();
  const records: StepRecord[] = spec.steps.map((step) => ({
    id: step.id,
    type: step.type,
    state: 'pending',
    attempts: 0,
    steps: 0,
    costUsd: 0,
    costCents: 0,
    result: null,
    error: null,
    approvals: [],
    maxSteps: step.type === 'agent' ? step.maxSteps : undefined,
  }));
  const approvals: ChainApproval[] = [];
  const inbox = new ApprovalInbox();
  const child = new ChildForwarder();
  const gateIds = new Set(spec.steps.filter((step) => step.type === 'approval').map((step) => step.id));
  const status = new StatusAttribute<CoastyStatus | ChainStatus>('running');
  let awaiting: ChainProgress['awaiting'];
  let budgetSince: string | undefined;
  let nextWorstCents = 0;

  const spentCents = () => records.reduce((sum, record) => sum + record.costCents, 0);
  const budget = new BudgetLimit(spec.maxCostCents).listen();
  const budgetCheck = (): BudgetCheck => ({
    spentCents: spentCents(),
    inFlightWorstCents: 0,
    nextWorstCents,
    maxCostCents: budget.maxCostCents,
  });
  const targets = (): DecisionTargets => ({
    openGateId: inbox.openRequestId,
    gateIds,
    childWorkflowId: child.workflowId,
  });

  setHandler(humanInputSignal, async (decision: HumanDecision) => {
    if (!isValidDecision(decision)) return;
    if (routeSignal(decision, targets()) === 'gate') offerDecision(inbox, decision);
    else await child.forward(decision);
  });
  setHandler(
    decideUpdate,
    async (decision: HumanDecision): Promise<DecisionAck> => {
      if (routeUpdate(decision, targets(), status.value) === 'gate') {
        const requestId = decision.requestId ?? inbox.openRequestId!;
        return { requestId, accepted: offerDecision(inbox, { ...decision, requestId }) };
      }
      const forwardedTo = child.workflowId;
      if (!(await child.forward(decision))) {
        throw ApplicationFailure.create({
          message: `step ${forwardedTo} ended before the decision reached it`,
        });
      }
      return { requestId: decision.requestId!, accepted: true, forwardedTo };
    },
    { validator: (decision: HumanDecision) => void routeUpdate(decision, targets(), status.value) },
  );
  setHandler(progressQuery, (): ChainProgress => ({
    kind: 'chain',
    name: spec.name,
    status: status.value,
    steps: records.map(({ costCents, approvals: _approvals, ...step }) => ({
      ...step,
      costUsd: centsToUsd(costCents),
    })),
    awaiting,
    costUsd: centsToUsd(spentCents()),
    maxCostUsd: budget.maxCostCents === undefined ? undefined : centsToUsd(budget.maxCostCents),
    budget: budgetSince ? budgetWait(budgetCheck(), budgetSince) : undefined,
    approvals,
  }));

  status.write();

  const render = (template: string, stepId: string): string => {
    const steps: Record<string, TemplateStepOutput> = {};
    for (const record of records) {
      if (record.state === 'pending' || record.state === 'skipped') continue;
      steps[record.id] = {
        status: record.state,
        result: record.result,
        costUsd: centsToUsd(record.costCents),
      };
    }
    try {
      return renderTemplate(template, { input: spec.inputs, steps });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      throw ApplicationFailure.nonRetryable(`step "${stepId}": ${error.message}`, 'TemplateError');
    }
  };

  const context: AgentStepContext = {
    chainId: info.workflowId,
    runTag: executionTag(info.firstExecutionRunId),
    child,
    render,
    async waitForBudget(worstCents: number) {
      nextWorstCents = worstCents;
      if (fitsBudget(budgetCheck())) return;
      budgetSince = new Date().toISOString();
      status.set('awaiting_budget');
      try {
        await condition(() => fitsBudget(budgetCheck()));
      } finally {
        budgetSince = undefined;
      }
      status.set('running');
    },
  };

  let final: ChainStatus = 'succeeded';
  try {
    for (const [index, step] of spec.steps.entries()) {
      const record = records[index]!;
      let verdict: StepVerdict;
      if (step.type === 'agent') {
        verdict = await runAgentStep(step, record, context);
      } else {
        verdict = await awaitGate(step, record, {
          inbox,
          question: render(step.question, step.id),
          onOpen(open) {
            awaiting = open;
            status.set('awaiting_human');
          },
          onClose() {
            awaiting = undefined;
            status.set('running');
          },
        });
      }
      approvals.push(...record.approvals.map((approval) => ({ ...approval, stepId: step.id })));
      if (verdict === 'stop') final = 'failed';
      if (verdict === 'cancel') final = 'cancelled';
      if (verdict !== 'next') break;
    }
  } catch (error) {
    skipUnreached(records);
    status.set(
      isCancellation(error) && CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed',
    );
    throw error;
  }

  skipUnreached(records);
  status.set(final);
  await condition(allHandlersFinished);
  return {
    name: spec.name,
    status: final,
    steps: records.map(({ costCents, maxSteps: _maxSteps, question: _question, ...step }) => ({
      ...step,
      costUsd: centsToUsd(costCents),
    })),
    costUsd: centsToUsd(spentCents()),
    approvals,
  };
}

function skipUnreached(records: StepRecord[]): void {
  for (const record of records) if (record.state === 'pending') record.state = 'skipped';
}
