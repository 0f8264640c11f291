// The webhook signals of one agentRun, as the workflow sees them: which status a run is shown in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunStateInbox } from '../../workflows/webhook-follow';
import type { RunStateChange } from '../../workflows/messages';

const change = (eventId: string, status: RunStateChange['status'], runId = 'run-1'): RunStateChange => ({
  runId,
  eventId,
  status,
});

test('running, then a late queued, handled together: the hint stays running', () => {
  const inbox = new RunStateInbox();
  inbox.follow('run-1');
  inbox.offer(change('e2', 'running'));
  inbox.offer(change('e1', 'queued'));
  assert.deepEqual(inbox.take(), { readDue: false, hint: 'running' });
  assert.equal(inbox.signals, 2);
});

test('the same two before the run id is known: kept, then applied in order once it is', () => {
  const inbox = new RunStateInbox();
  inbox.offer(change('e2', 'running'));
  inbox.offer(change('e1', 'queued'));
  inbox.offer(change('x1', 'running', 'someone-else'));
  assert.equal(inbox.pending, false);
  inbox.follow('run-1');
  assert.deepEqual(inbox.take(), { readDue: false, hint: 'running' });
  assert.equal(inbox.signals, 2, "another run's signal is not counted");
});

test('a history from before the patch keeps its rule: the late queued replaced the running hint', () => {
  let asked = 0;
  const inbox = new RunStateInbox({ forwardOnly: () => (asked++, false) });
  inbox.follow('run-1');
  inbox.offer(change('e2', 'running'));
  inbox.offer(change('e1', 'queued'));
  assert.deepEqual(inbox.take(), { readDue: false, hint: 'queued' });
  assert.equal(asked, 1, 'the rule is asked only where the two differ');
});

test('duplicates count once; a pause or an end asks for a read', () => {
  const inbox = new RunStateInbox();
  inbox.follow('run-1');
  inbox.offer(change('e2', 'running'));
  inbox.offer(change('e2', 'running'));
  inbox.offer(change('e3', 'awaiting_human'));
  assert.deepEqual(inbox.take(), { readDue: true, hint: 'running' });
  inbox.offer(change('e3', 'awaiting_human'));
  assert.equal(inbox.pending, false, 'a duplicate pause asks for nothing');
  inbox.offer(change('e4', 'succeeded'));
  assert.deepEqual(inbox.take(), { readDue: true, hint: undefined });
  assert.equal(inbox.signals, 3);
});
