// Audit B1: a create retried after a lost answer, with a secret that changed in between, is a
// different body under the same idempotency key. The API refuses it (409) and the run the first
// attempt created is not followed: the failure must say so, and how to find and cancel that run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startAgentRun } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let armed = false;
let reads = 0;
// The worker reads the secret when it builds its redactor; once armed, the first create attempt
// (which reads it twice: is it set, then its value) gets the old value, every later attempt the new one.
const env = {
  get COASTY_SECRET_PORTAL() {
    if (armed) reads += 1;
    return reads <= 2 ? 'old-portal-password' : 'new-portal-password';
  },
} as unknown as NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({ label: 'create-conflict', workerEnv: env });
  armed = true;
});
after(() => stack?.stop());

test('a secret rotated between create attempts: 409, the failure names the orphan risk and how to cancel it', async () => {
  await stack.emulator.admin.setFaults({ lostResponses: { rate: 1, endpoints: ['create'] } });
  try {
    const handle = await startAgentRun(stack, {
      task: 'Log in with {{secret.PORTAL}} [steps=2]',
      machine: 'm-2',
    });
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
    assert.equal(error.cause.type, 'CoastyConflict');
    assert.equal(error.cause.nonRetryable, true);
    assert.match(
      error.cause.message,
      /another body \(did a COASTY_SECRET_ value change between attempts\?\)/,
    );
    assert.match(error.cause.message, /GET \/v1\/runs\?machine_id=m-2 and cancel it/);
    assert.doesNotMatch(error.cause.message, /portal-password/, 'no secret in the failure');
    assert.equal(
      (await stack.emulator.admin.counters()).runs_created,
      1,
      'the first attempt created the run',
    );
  } finally {
    await stack.emulator.admin.clearFaults();
  }
});
