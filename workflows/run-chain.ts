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
import type { ChainApproval, ChainResult, ChainStatus, StepRecord } from './chain-result';
import { awaitGate, type GateContext } from './chain-gate';
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
  const chain: ChainState = {
    spec,
    records: spec.steps.map(newStepRecord),
    approvals: [],
    inbox: new ApprovalInbox(),
    child: new ChildForwarder(),
    status: new StatusAttribute<CoastyStatus | ChainStatus>('running'),
    budget: new BudgetLimit(spec.maxCostCents).listen(),
    nextWorstCents: 0,
  };
  listenForDecisions(chain);
  setHandler(progressQuery, () => chainProgress(chain));
  chain.status.write();
  const context = agentStepContext(chain, info.workflowId, executionTag(info.firstExecutionRunId));

  let final: ChainStatus = 'succeeded';
  try {
    for (const [index, step] of spec.steps.entries()) {
      const record = chain.records[index]!;
      const verdict =
        step.type === 'agent'
          ? await runAgentStep(step, record, context)
          : await awaitGate(step, record, gateContext(chain, render(chain, step.question, step.id)));
      chain.approvals.push(...record.approvals.map((approval) => ({ ...approval, stepId: step.id })));
      if (verdict === 'stop') final = 'failed';
      if (verdict === 'cancel') final = 'cancelled';
      if (verdict !== 'next') break;
    }
  } catch (error) {
    skipUnreached(chain.records);
    chain.status.set(
      isCancellation(error) && CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed',
    );
    throw error;
  }

  skipUnreached(chain.records);
  chain.status.set(final);
  await condition(allHandlersFinished);
  return {
    name: spec.name,
    status: final,
    steps: chain.records.map(({ costCents, maxSteps: _maxSteps, question: _question, ...step }) => ({
      ...step,
      costUsd: centsToUsd(costCents),
    })),
    costUsd: centsToUsd(spentCents(chain)),
    approvals: chain.approvals,
  };
}

/** What runChain's handlers read and its steps write. */
interface ChainState {
  spec: ChainSpec;
  records: StepRecord[];
  approvals: ChainApproval[];
  inbox: ApprovalInbox;
  child: ChildForwarder;
  status: StatusAttribute<CoastyStatus | ChainStatus>;
  budget: BudgetLimit;
  awaiting?: ChainProgress['awaiting'];
  budgetSince?: string;
  /** The worst case of the run the chain is about to start. */
  nextWorstCents: number;
}

function newStepRecord(step: ChainSpec['steps'][number]): StepRecord {
  return {
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
  };
}

/** A decision answers the open gate, or goes on to the agent step's child that runs. */
function listenForDecisions(chain: ChainState): void {
  const { inbox, child } = chain;
  const gateIds = new Set(chain.spec.steps.filter((step) => step.type === 'approval').map((step) => step.id));
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
      if (routeUpdate(decision, targets(), chain.status.value) === 'gate') {
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
    { validator: (decision: HumanDecision) => void routeUpdate(decision, targets(), chain.status.value) },
  );
}

function chainProgress(chain: ChainState): ChainProgress {
  const { budget } = chain;
  return {
    kind: 'chain',
    name: chain.spec.name,
    status: chain.status.value,
    steps: chain.records.map(({ costCents, approvals: _approvals, ...step }) => ({
      ...step,
      costUsd: centsToUsd(costCents),
    })),
    awaiting: chain.awaiting,
    costUsd: centsToUsd(spentCents(chain)),
    maxCostUsd: budget.maxCostCents === undefined ? undefined : centsToUsd(budget.maxCostCents),
    budget: chain.budgetSince ? budgetWait(budgetCheck(chain), chain.budgetSince) : undefined,
    approvals: chain.approvals,
  };
}

function spentCents(chain: ChainState): number {
  return chain.records.reduce((sum, record) => sum + record.costCents, 0);
}

function budgetCheck(chain: ChainState): BudgetCheck {
  return {
    spentCents: spentCents(chain),
    inFlightWorstCents: 0,
    nextWorstCents: chain.nextWorstCents,
    maxCostCents: chain.budget.maxCostCents,
  };
}

/** A step's task or question with the inputs and the outcomes of the steps that ran. */
function render(chain: ChainState, template: string, stepId: string): string {
  const steps: Record<string, TemplateStepOutput> = {};
  for (const record of chain.records) {
    if (record.state === 'pending' || record.state === 'skipped') continue;
    steps[record.id] = {
      status: record.state,
      result: record.result,
      costUsd: centsToUsd(record.costCents),
    };
  }
  try {
    return renderTemplate(template, { input: chain.spec.inputs, steps });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw ApplicationFailure.nonRetryable(`step "${stepId}": ${error.message}`, 'TemplateError');
  }
}

function agentStepContext(chain: ChainState, chainId: string, runTag: string): AgentStepContext {
  return {
    chainId,
    runTag,
    child: chain.child,
    render: (template, stepId) => render(chain, template, stepId),
    async waitForBudget(worstCents: number) {
      chain.nextWorstCents = worstCents;
      if (fitsBudget(budgetCheck(chain))) return;
      chain.budgetSince = new Date().toISOString();
      chain.status.set('awaiting_budget');
      try {
        await condition(() => fitsBudget(budgetCheck(chain)));
      } finally {
        chain.budgetSince = undefined;
      }
      chain.status.set('running');
    },
  };
}

function gateContext(chain: ChainState, question: string): GateContext {
  return {
    inbox: chain.inbox,
    question,
    onOpen(open) {
      chain.awaiting = open;
      chain.status.set('awaiting_human');
    },
    onClose() {
      chain.awaiting = undefined;
      chain.status.set('running');
    },
  };
}

function skipUnreached(records: StepRecord[]): void {
  for (const record of records) if (record.state === 'pending') record.state = 'skipped';
}
