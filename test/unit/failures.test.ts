import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import {
  CLIENT_CLOSED_ERROR_TYPE,
  toActivityFailure,
  UNEXPECTED_ERROR_TYPE,
  USAGE_ERROR_TYPE,
} from '../../activities/failures';
import { ServerError } from '../../api/errors';
import { RunsClient } from '../../api/runs-client';

const redact = (text: string) => text.split('hunter2-secret').join('[secret PW]');

test('an undici usage error is a non-retryable CoastyUsageError, not retried forever', async () => {
  // A real undici refusal: a header value undici will not send.
  const refused = await request('http://127.0.0.1:1/', { headers: { 'x-key': 'invoice-€' } }).catch(
    (error: unknown) => error,
  );
  assert.equal((refused as { code?: string }).code, 'UND_ERR_INVALID_ARG');
  const failure = toActivityFailure(refused, redact);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.type, USAGE_ERROR_TYPE);
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /UND_ERR_INVALID_ARG/);
});

test('any other error that is not an API error is a non-retryable UnexpectedError with a redacted message', () => {
  const failure = toActivityFailure(
    new TypeError(`cannot read 'x' of hunter2-secret ${'y'.repeat(300)}`),
    redact,
  );
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.type, UNEXPECTED_ERROR_TYPE);
  assert.equal(failure.nonRetryable, true);
  assert.ok(!failure.message.includes('hunter2'), failure.message);
  assert.match(failure.message, /TypeError.*\[secret PW\]/);
  assert.ok(failure.message.length < 400, 'the message is bounded');
  const thrownString = toActivityFailure('boom', redact) as ApplicationFailure;
  assert.equal(thrownString.type, UNEXPECTED_ERROR_TYPE);
});

test('an API error keeps its retryability', () => {
  const failure = toActivityFailure(new ServerError({ message: 'down', retryAfterMs: 2000 }), redact);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.nonRetryable, false);
});

test("Temporal's own failures pass through unchanged", () => {
  const cancelled = new CancelledFailure('CANCELLED');
  assert.equal(toActivityFailure(cancelled, redact), cancelled);
  const app = ApplicationFailure.nonRetryable('missing', 'MissingSecret');
  assert.equal(toActivityFailure(app, redact), app);
});

test("the activity's cancellation reason passes through unchanged", async () => {
  const env = new MockActivityEnvironment();
  const seen = await env.run(async (): Promise<{ reason: unknown; converted: unknown }> => {
    const signal = Context.current().cancellationSignal;
    const aborted = new Promise<unknown>((resolve) =>
      signal.addEventListener('abort', () => resolve(signal.reason)),
    );
    env.cancel('CANCELLED');
    const reason = await aborted;
    return { reason, converted: toActivityFailure(reason, redact) };
  });
  assert.ok(seen.reason !== undefined);
  assert.equal(seen.converted, seen.reason);
});

test('a call on a closed client is retryable: the worker is shutting down, another can do it', async () => {
  const client = new RunsClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'sk_test_closed_0123456' });
  await client.close();
  const error = await client.getRun('run_1').catch((caught: unknown) => caught);
  const failure = toActivityFailure(error, redact);
  assert.ok(failure instanceof ApplicationFailure, String(error));
  assert.equal(failure.type, CLIENT_CLOSED_ERROR_TYPE);
  assert.equal(failure.nonRetryable, false);
});
