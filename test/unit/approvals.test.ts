import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalInbox } from '../../workflows/approvals';

test('an unnamed decision answers the open pause; a second one is a duplicate', () => {
  const inbox = new ApprovalInbox();
  inbox.open('e-7');
  assert.equal(inbox.offer({ action: 'approve' }), true);
  assert.equal(inbox.offer({ action: 'reject' }), false);
  assert.equal(inbox.peek('e-7')?.action, 'approve');
  inbox.close('e-7');
  assert.equal(
    inbox.offer({ action: 'approve', requestId: 'e-7' }),
    false,
    'a decided pause ignores later decisions',
  );
});

test('an early decision is kept for the next pause, and only for that one', () => {
  const inbox = new ApprovalInbox();
  assert.equal(inbox.offer({ action: 'approve', message: 'early' }), true);
  assert.equal(inbox.offer({ action: 'reject' }), false);
  inbox.open('e-3');
  assert.equal(inbox.peek('e-3')?.message, 'early');
  inbox.close('e-3');
  inbox.open('e-9');
  assert.equal(inbox.peek('e-9'), undefined);
});

test('a decision naming a pause waits for that pause and does not answer another', () => {
  const inbox = new ApprovalInbox();
  assert.equal(inbox.offer({ action: 'reject', requestId: 'e-20' }), true);
  inbox.open('e-10');
  assert.equal(inbox.peek('e-10'), undefined);
  inbox.close('e-10');
  inbox.open('e-20');
  assert.equal(inbox.peek('e-20')?.action, 'reject');
});
