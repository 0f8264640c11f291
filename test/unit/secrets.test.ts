import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSummary, secretRedactor } from '../../activities/secrets';
import { emptySummary } from '../../activities/summary';

test('every COASTY_SECRET_ value is masked in the results, errors, pauses and actions a summary carries', () => {
  const redact = secretRedactor({
    COASTY_SECRET_PORTAL_PASSWORD: 's3cr3t!',
    COASTY_SECRET_PIN: '4321',
    OTHER: 'visible',
  });
  const summary = redactSummary(
    {
      ...emptySummary('run_1'),
      result: 'logged in with s3cr3t! and 4321',
      error: { type: 'x', message: 'password s3cr3t! refused' },
      awaiting: { requestId: 'e1', reason: 'confirm 4321', proposedAction: 'type s3cr3t!', since: 'now' },
      lastAction: { type: 'type', text: 's3cr3t!' },
    },
    redact,
  );
  const text = JSON.stringify(summary);
  assert.ok(!text.includes('s3cr3t!') && !text.includes('4321'), text);
  assert.equal(summary.lastAction?.text, '[secret PORTAL_PASSWORD]');
  assert.equal(redact('visible'), 'visible');
});
