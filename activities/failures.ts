import { ApplicationFailure } from '@temporalio/activity';
import { CoastyApiError, toFailureOptions } from '../api/errors';

/**
 * API errors become ApplicationFailures once, here: 4xx are non-retryable with a type per cause,
 * 429/5xx/network are retryable and carry Retry-After as the next retry delay.
 */
export function toActivityFailure(
  error: unknown,
  redact: (text: string) => string = (text) => text,
): unknown {
  if (!(error instanceof CoastyApiError)) return error;
  const options = toFailureOptions(error);
  return ApplicationFailure.create({
    type: options.type,
    message: redact(options.message),
    nonRetryable: options.nonRetryable,
    nextRetryDelay: options.nextRetryDelayMs,
    details: options.details,
  });
}
