// Where a person's decision sent to a chain goes: its own approval gate, or the child agent run
// of the current step (forwarded, so that one id is enough to approve "the process").
import { validateDecision } from './decision-rules';
import type { HumanDecision } from './messages';

export interface DecisionTargets {
  /** The gate that waits now, if any. */
  openGateId: string | undefined;
  /** Every gate of the chain: a decision naming one is kept for it. */
  gateIds: ReadonlySet<string>;
  /** The workflow id of the agent step running now, if any. */
  childWorkflowId: string | undefined;
}

export type DecisionRoute = 'gate' | 'child';

/** For a signal: never refused; the gate's or the child's inbox ignores a decision for a pause not open. */
export function routeSignal(decision: HumanDecision, targets: DecisionTargets): DecisionRoute {
  if (decision.requestId !== undefined && targets.gateIds.has(decision.requestId)) return 'gate';
  if (targets.openGateId !== undefined) return 'gate';
  return targets.childWorkflowId !== undefined ? 'child' : 'gate';
}

/** For the update: the route, or a reason to refuse (thrown by the validator). */
export function routeUpdate(
  decision: HumanDecision,
  targets: DecisionTargets,
  status: string,
): DecisionRoute {
  validateDecision(decision);
  if (targets.openGateId !== undefined) {
    if (decision.requestId !== undefined && decision.requestId !== targets.openGateId) {
      throw new Error(`pause ${decision.requestId} is not the open one (${targets.openGateId})`);
    }
    return 'gate';
  }
  if (decision.requestId !== undefined && targets.gateIds.has(decision.requestId)) {
    throw new Error(`approval gate ${decision.requestId} is not waiting for a person (status ${status})`);
  }
  if (targets.childWorkflowId !== undefined) {
    // The chain cannot see whether its step's run waits, nor for which pause: the decision must name
    // the pause the person saw, or it could approve a later one nobody has seen.
    if (decision.requestId === undefined) {
      throw new Error(
        `no approval gate waits; step ${targets.childWorkflowId} runs: name the pause you answer ` +
          `(requestId = awaiting.requestId of its progress query), or send the decision to ${targets.childWorkflowId}`,
      );
    }
    return 'child';
  }
  throw new Error(`the chain is not waiting for a person (status ${status})`);
}
