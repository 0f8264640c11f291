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

test('a decision sent while nothing waits is ignored: it never answers a pause nobody has seen', () => {
  const inbox = new ApprovalInbox();
  assert.equal(inbox.offer({ action: 'approve', message: 'early' }), false);
  inbox.open('e-3');
  assert.equal(inbox.peek('e-3'), undefined);
  assert.equal(inbox.offer({ action: 'reject', message: 'seen' }), true);
  assert.equal(inbox.peek('e-3')?.message, 'seen');
});

test('a late or duplicate unnamed decision after a pause closed does not answer the next pause', () => {
  const inbox = new ApprovalInbox();
  inbox.open('evt_1');
  assert.equal(inbox.offer({ action: 'approve', by: 'alice' }), true);
  inbox.close('evt_1');
  assert.equal(inbox.offer({ action: 'approve', by: 'bob' }), false, "bob's copy came too late");
  inbox.open('evt_9');
  assert.equal(inbox.peek('evt_9'), undefined);
});

test('a decision naming a pause that is not open is ignored, before or after it', () => {
  const inbox = new ApprovalInbox();
  assert.equal(inbox.offer({ action: 'reject', requestId: 'e-20' }), false);
  inbox.open('e-10');
  assert.equal(inbox.offer({ action: 'reject', requestId: 'e-20' }), false);
  assert.equal(inbox.peek('e-10'), undefined);
  inbox.close('e-10');
  inbox.open('e-20');
  assert.equal(inbox.peek('e-20'), undefined);
});

test('histories recorded before the rule replay the old way (strict: false keeps early decisions)', () => {
  const inbox = new ApprovalInbox();
  assert.equal(inbox.offer({ action: 'approve', message: 'early' }, { strict: false }), true);
  inbox.open('e-3');
  assert.equal(inbox.peek('e-3')?.message, 'early');
});
