// Budget arithmetic for runChain and runBatch, in integer cents. Pure: no Temporal APIs.
//
// Before each new run: spent (runs that ended) + the worst case of the runs in flight +
// the new run's worst case must stay within the budget; otherwise the process waits for a
// person to raise it. A run's worst case is max_steps x 5 cents: the API bills per step and
// ends a run at max_steps, so a run can never cost more.
import { STEP_COST_CENTS } from '../api/types';
import { centsToUsd, formatUsd, usdToCents } from '../core/money';
import type { BudgetWait } from './messages';

export function worstCaseCents(maxSteps: number): number {
  return maxSteps * STEP_COST_CENTS;
}

export interface BudgetCheck {
  /** Cost of the runs that ended (their real cost). */
  spentCents: number;
  /** Sum of the worst cases of the runs still in flight (their real cost is not known yet). */
  inFlightWorstCents: number;
  /** Worst case of the run about to start. */
  nextWorstCents: number;
  /** No budget: undefined. */
  maxCostCents: number | undefined;
}

export function neededCents(check: BudgetCheck): number {
  return check.spentCents + check.inFlightWorstCents + check.nextWorstCents;
}

/** True when the next run may start without the budget being exceeded even in the worst case. */
export function fitsBudget(check: BudgetCheck): boolean {
  return check.maxCostCents === undefined || neededCents(check) <= check.maxCostCents;
}

export function budgetWait(check: BudgetCheck, since: string): BudgetWait {
  return {
    neededUsd: centsToUsd(neededCents(check)),
    maxCostUsd: centsToUsd(check.maxCostCents ?? 0),
    since,
  };
}

/**
 * Validates a raise (the update's validator and the signal's filter share it) and returns the new
 * budget in cents. Throws with a sentence a person can act on.
 */
export function raisedBudgetCents(currentCents: number | undefined, maxCostUsd: unknown): number {
  if (typeof maxCostUsd !== 'number' || !Number.isFinite(maxCostUsd) || maxCostUsd <= 0) {
    throw new Error(`maxCostUsd must be a number of dollars above 0, got ${JSON.stringify(maxCostUsd)}`);
  }
  if (currentCents === undefined) {
    throw new Error('this process has no budget (max_cost_usd) to raise');
  }
  const cents = usdToCents(maxCostUsd);
  if (cents <= currentCents) {
    throw new Error(
      `the new budget USD ${formatUsd(cents)} must be higher than the current USD ${formatUsd(currentCents)}`,
    );
  }
  return cents;
}
