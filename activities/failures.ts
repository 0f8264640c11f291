import { ApplicationFailure, Context } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import {
  CoastyApiError,
  ForbiddenError,
  UnauthorizedError,
  isClientClosedError,
  isUsageError,
  quoteBody,
  toFailureOptions,
} from '../api/errors';

/** Our own misuse of the HTTP client (a bad header, a closed client): the same call fails again. */
export const USAGE_ERROR_TYPE = 'CoastyUsageError';
/** The runs client was closed under the call (worker shutdown): another attempt can succeed. */
export const CLIENT_CLOSED_ERROR_TYPE = 'CoastyClientClosed';
/** Anything else that is not an API error (a bug, a broken invariant): retrying would loop forever. */
export const UNEXPECTED_ERROR_TYPE = 'UnexpectedError';

/** The activity's own cancellation (its reason), or a failure Temporal made: never rewrapped. */
function isTemporalOwn(error: unknown): boolean {
  if (error instanceof TemporalFailure) return true;
  try {
    const signal = Context.current().cancellationSignal;
    return signal.aborted && signal.reason === error;
  } catch {
    return false; // not inside an activity
  }
}

/**
 * Errors become ApplicationFailures once, here: API 4xx are non-retryable with a type per cause,
 * 429/5xx/network are retryable and carry Retry-After as the next retry delay; usage errors and
 * unknown errors are non-retryable. Temporal's own failures and cancellation pass unchanged.
 */
export function toActivityFailure(
  error: unknown,
  redact: (text: string) => string = (text) => text,
  /** The run the call was about, once created: a refused key then waits for a valid one (keyRefused). */
  liveRunId?: string,
): unknown {
  if (isTemporalOwn(error)) return error;
  if (liveRunId !== undefined && (error instanceof UnauthorizedError || error instanceof ForbiddenError))
    return keyRefused(error, liveRunId, redact);
  if (isClientClosedError(error)) {
    return ApplicationFailure.create({
      type: CLIENT_CLOSED_ERROR_TYPE,
      message:
        'The runs API client was closed during the call (the worker is shutting down); the activity is retried.',
      nonRetryable: false,
    });
  }
  if (!(error instanceof CoastyApiError)) {
    const usage = isUsageError(error);
    const name = error instanceof Error ? error.name : typeof error;
    const code = (error as { code?: unknown } | null)?.code;
    const said = quoteBody(redact(error instanceof Error ? error.message : String(error)));
    return ApplicationFailure.create({
      type: usage ? USAGE_ERROR_TYPE : UNEXPECTED_ERROR_TYPE,
      message: usage
        ? `The HTTP client refused the request (${String(code)}): ${said}. This is a bug in coasty-temporal; retrying cannot help.`
        : `Unexpected ${name}${typeof code === 'string' ? ` (${code})` : ''}: ${said}. Not an error of the runs API; retrying cannot help.`,
      nonRetryable: true,
    });
  }
  const options = toFailureOptions(error);
  return ApplicationFailure.create({
    type: options.type,
    message: redact(options.message),
    nonRetryable: options.nonRetryable,
    nextRetryDelay: options.nextRetryDelayMs,
    details: options.details,
  });
}

/**
 * Once a run exists, a refused key (401/403: rotated or revoked) is the operator's to fix, not the
 * run's: the run goes on billing, and only a valid key can follow or stop it, so giving up would
 * orphan it. The call is retried (backoff up to 30 s, no history events) until a worker has a valid
 * key. Creation stays final on 401/403: nothing exists yet.
 */
function keyRefused(error: CoastyApiError, runId: string, redact: (text: string) => string) {
  return ApplicationFailure.create({
    type: error.errorType,
    message: redact(
      `${error.message} Run ${runId} exists and goes on billing, and only a valid key can follow or stop it: ` +
        'retrying until a worker has one (set COASTY_API_KEY on the workers and restart them).',
    ),
    nonRetryable: false,
  });
}
