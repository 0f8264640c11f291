import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centsToUsd, usdToCents } from '../../core/money';
import {
  budgetWait,
  fitsBudget,
  neededCents,
  raisedBudgetCents,
  worstCaseCents,
} from '../../workflows/budget';

test('a run can cost at most max_steps x 5 cents', () => {
  assert.equal(worstCaseCents(50), 250);
  assert.equal(worstCaseCents(1), 5);
});

test('spent + in flight worst case + next worst case is checked against the budget, inclusive', () => {
  const check = { spentCents: 30, inFlightWorstCents: 40, nextWorstCents: 20, maxCostCents: 90 };
  assert.equal(neededCents(check), 90);
  assert.equal(fitsBudget(check), true, 'exactly the budget fits');
  assert.equal(fitsBudget({ ...check, spentCents: 31 }), false);
  assert.equal(
    fitsBudget({ ...check, maxCostCents: undefined, spentCents: 1e9 }),
    true,
    'no budget, no limit',
  );
});

test('the wait shows what is needed and the budget, in dollars', () => {
  const wait = budgetWait(
    { spentCents: 55, inFlightWorstCents: 0, nextWorstCents: 50, maxCostCents: 100 },
    't',
  );
  assert.deepEqual(wait, { neededUsd: 1.05, maxCostUsd: 1, since: 't' });
});

test('a raise must be a positive amount above the current budget', () => {
  assert.equal(raisedBudgetCents(100, 1.5), 150);
  assert.throws(() => raisedBudgetCents(100, 1), /must be higher than the current USD 1.00/);
  assert.throws(() => raisedBudgetCents(100, 0.5), /must be higher/);
  assert.throws(() => raisedBudgetCents(100, 0), /above 0/);
  assert.throws(() => raisedBudgetCents(100, -3), /above 0/);
  assert.throws(() => raisedBudgetCents(100, Number.NaN), /above 0/);
  assert.throws(() => raisedBudgetCents(100, '2' as unknown as number), /a number of dollars/);
  assert.throws(() => raisedBudgetCents(undefined, 5), /no budget/);
});

test('dollars and cents convert without float drift', () => {
  assert.equal(usdToCents(0.1 + 0.2), 30);
  assert.equal(usdToCents(19.99), 1999);
  assert.equal(centsToUsd(1999), 19.99);
});
