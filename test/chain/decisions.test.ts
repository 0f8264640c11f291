// Where a decision sent to a chain goes (pure; no server needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeSignal, routeUpdate, type DecisionTargets } from '../../workflows/decisions';

const gates = new Set(['review', 'sign_off']);
const idle: DecisionTargets = { openGateId: undefined, gateIds: gates, childWorkflowId: undefined };
const gateOpen: DecisionTargets = { ...idle, openGateId: 'review' };
const childRuns: DecisionTargets = { ...idle, childWorkflowId: 'c/pay' };

test('a signal goes to the open gate, else to the running child, else is kept for the next gate', () => {
  assert.equal(routeSignal({ action: 'approve' }, gateOpen), 'gate');
  assert.equal(routeSignal({ action: 'approve' }, childRuns), 'child');
  assert.equal(routeSignal({ action: 'approve', requestId: 'evt_1' }, childRuns), 'child');
  assert.equal(
    routeSignal({ action: 'approve', requestId: 'sign_off' }, childRuns),
    'gate',
    'early, for a later gate',
  );
  assert.equal(routeSignal({ action: 'approve' }, idle), 'gate');
});

test('the update is refused unless a gate waits or a child runs and the pause is named', () => {
  assert.equal(routeUpdate({ action: 'reject' }, gateOpen, 'awaiting_human'), 'gate');
  assert.equal(routeUpdate({ action: 'reject', requestId: 'review' }, gateOpen, 'awaiting_human'), 'gate');
  assert.throws(
    () => routeUpdate({ action: 'approve', requestId: 'x' }, gateOpen, 's'),
    /not the open one \(review\)/,
  );
  assert.equal(routeUpdate({ action: 'approve', requestId: 'evt_4' }, childRuns, 'running'), 'child');
  assert.throws(
    () => routeUpdate({ action: 'approve' }, childRuns, 'running'),
    /name the pause you answer \(requestId/,
    'forwarded to a step, a decision must name the pause the person saw',
  );
  assert.throws(
    () => routeUpdate({ action: 'reject', message: 'x'.repeat(10_001) }, gateOpen, 'awaiting_human'),
    /message is 10001 characters; the runs API accepts at most 10000/,
  );
  assert.throws(
    () => routeUpdate({ action: 'approve', requestId: 'sign_off' }, childRuns, 'running'),
    /gate sign_off is not waiting/,
  );
  assert.throws(
    () => routeUpdate({ action: 'approve' }, idle, 'awaiting_budget'),
    /not waiting for a person \(status awaiting_budget\)/,
  );
  assert.throws(
    () => routeUpdate({ action: 'ok' as 'approve' }, gateOpen, 's'),
    /action must be "approve" or "reject"/,
  );
});
