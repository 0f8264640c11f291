import { ApplicationFailure, Context } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import {
  CoastyApiError,
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
): unknown {
  if (isTemporalOwn(error)) return error;
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
