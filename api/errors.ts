// Every failure of the runs API, classified once. Pure (no Node built-ins, no I/O). The package
// exports NON_RETRYABLE_ERROR_TYPES for a user's own retry policies (`nonRetryableErrorTypes`).
import { oneLine, truncate } from '../core/text';
import { REDACTED, redactBearer, secretRedactor, type Redact } from './redact';

export interface CoastyApiErrorInit {
  message: string;
  status?: number;
  type?: string;
  param?: string;
  retryAfterMs?: number;
  requestId?: string;
  cause?: unknown;
}

export abstract class CoastyApiError extends Error {
  /** Stable type for Temporal's `ApplicationFailure.type` and `nonRetryableErrorTypes`. */
  static readonly errorType: string = 'CoastyApiError';
  static readonly retryable: boolean = false;
  static readonly defaultType: string = 'api_error';

  /** HTTP status, when the failure came with one. */
  readonly status: number | undefined;
  /** The API's error type (`invalid_request`, ...) or ours (`network_error`, ...). */
  readonly type: string;
  readonly param: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;

  constructor(init: CoastyApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    const kind = new.target as unknown as typeof CoastyApiError;
    this.name = kind.name;
    this.status = init.status;
    this.type = init.type ?? kind.defaultType;
    this.param = init.param;
    this.retryable = kind.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
  }

  get errorType(): string {
    return (this.constructor as typeof CoastyApiError).errorType;
  }
}

export class InvalidRequestError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyInvalidRequest';
  static override readonly defaultType: string = 'invalid_request';
}
export class UnauthorizedError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyUnauthorized';
  static override readonly defaultType: string = 'unauthorized';
}
export class ForbiddenError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyForbidden';
  static override readonly defaultType: string = 'forbidden';
}
export class NotFoundError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyNotFound';
  static override readonly defaultType: string = 'not_found';
}
export class ConflictError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyConflict';
  static override readonly defaultType: string = 'conflict';
}
export class PayloadTooLargeError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyPayloadTooLarge';
  static override readonly defaultType: string = 'payload_too_large';
}
export class UnprocessableError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyUnprocessable';
  static override readonly defaultType: string = 'unprocessable';
}
/** Any other non-2xx status (3xx, 405, 408, ...): not documented, so not retried blindly. */
export class UnexpectedStatusError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyUnexpectedStatus';
  static override readonly defaultType: string = 'unexpected_status';
}
export class RateLimitedError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyRateLimited';
  static override readonly retryable: boolean = true;
  static override readonly defaultType: string = 'rate_limited';
}
export class ServerError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyServerError';
  static override readonly retryable: boolean = true;
  static override readonly defaultType: string = 'server_error';
}
/** No HTTP answer: refused, reset, timed out, or a stream that kept dropping. */
export class NetworkError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyNetworkError';
  static override readonly retryable: boolean = true;
  static override readonly defaultType: string = 'network_error';
}
/** A malformed event (non-JSON data, no `id`/`type`): the same bytes come back on resume. */
export class StreamProtocolError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyStreamProtocol';
  static override readonly defaultType: string = 'stream_protocol';
}
/**
 * A 2xx whose body is not what the API documents (a stream that is not text/event-stream, a
 * JSON endpoint answering HTML). The API itself answered moments before (the run exists), so
 * this is usually a proxy or captive page in between: retryable.
 */
export class UnexpectedContentTypeError extends StreamProtocolError {
  static override readonly errorType: string = 'CoastyUnexpectedContentType';
  static override readonly retryable: boolean = true;
  static override readonly defaultType: string = 'unexpected_content_type';
}
/** COASTY_BASE_URL / COASTY_API_KEY missing or invalid. */
export class ConfigError extends CoastyApiError {
  static override readonly errorType: string = 'CoastyConfig';
  static override readonly defaultType: string = 'config';
}

const ALL_ERROR_CLASSES = [
  InvalidRequestError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  UnprocessableError,
  UnexpectedStatusError,
  RateLimitedError,
  ServerError,
  NetworkError,
  StreamProtocolError,
  UnexpectedContentTypeError,
  ConfigError,
] as const;

/**
 * For `nonRetryableErrorTypes` of a retry policy. Holds each errorType and each class name: the SDK types an
 * error by its constructor name when an activity lets it propagate unwrapped.
 */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = Object.freeze(
  ALL_ERROR_CLASSES.filter((kind) => !kind.retryable).flatMap((kind) => [kind.errorType, kind.name]),
);

/** What an activity passes to `ApplicationFailure.create` (api/ must not import @temporalio). */
export function toFailureOptions(error: CoastyApiError): {
  type: string;
  message: string;
  nonRetryable: boolean;
  nextRetryDelayMs: number | undefined;
  details: { status?: number; type: string; param?: string; requestId?: string }[];
} {
  const details: { status?: number; type: string; param?: string; requestId?: string } = { type: error.type };
  if (error.status !== undefined) details.status = error.status;
  if (error.param !== undefined) details.param = error.param;
  if (error.requestId !== undefined) details.requestId = error.requestId;
  return {
    type: error.errorType,
    message: error.message,
    nonRetryable: !error.retryable,
    nextRetryDelayMs: error.retryAfterMs,
    details: [details],
  };
}

/**
 * The longest wait a server's hint (`Retry-After`, an SSE `retry:`) can impose on us: a larger
 * one would leave a pause or the end of a run unseen that long (and past 2^31-1 ms Node's timers
 * fire at once).
 */
export const MAX_SERVER_DELAY_MS = 60_000;

/** `ms` within [0, MAX_SERVER_DELAY_MS]; undefined stays undefined. */
export function capServerDelay(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.min(Math.max(0, ms), MAX_SERVER_DELAY_MS);
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date; undefined if absent or invalid. */
export function parseRetryAfter(
  header: string | readonly string[] | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const value = (typeof header === 'string' ? header : header?.[0])?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Shorter keys are dev placeholders ("k", "test"): replacing them would garble every message. */
export const MIN_REDACTED_KEY_LENGTH = 8;

/**
 * The redactor of everything a server sends us: the API key (8+ characters) and the other
 * `secrets`, in every form (api/redact.ts), then anything after `Bearer `. Run it on raw text.
 */
export function apiRedactor(
  apiKey: string | undefined,
  secrets: readonly { value: string; label: string }[] = [],
): Redact {
  const all =
    apiKey && apiKey.length >= MIN_REDACTED_KEY_LENGTH
      ? [{ value: apiKey, label: REDACTED }, ...secrets]
      : secrets;
  const known = secretRedactor(all);
  return (text) => redactBearer(known(text));
}

/** Removes `secret` and anything that looks like a bearer credential from text we did not write. */
export function redact(text: string, secret?: string): string {
  return apiRedactor(secret)(text);
}

export const QUOTE_LIMIT = 200;

/** A body on one line, cut after QUOTE_LIMIT characters. */
export function quoteBody(text: string): string {
  return truncate(oneLine(text), QUOTE_LIMIT + 1);
}

export interface HttpFailure {
  status: number;
  method: string;
  /** Path as requested, e.g. `/v1/runs/run_1`; never the query string with anything secret. */
  path: string;
  body: string;
  retryAfter?: string | readonly string[] | null;
  requestId?: string;
  /** The API key, to strip from anything the server echoed. */
  secret?: string;
  /** Strips every secret (the API key included) from raw text; wins over `secret`. */
  redact?: Redact;
  now?: number;
}

type ErrorClass = new (init: CoastyApiErrorInit) => CoastyApiError;

function classForStatus(status: number): ErrorClass {
  switch (status) {
    case 400:
      return InvalidRequestError;
    case 401:
      return UnauthorizedError;
    case 403:
      return ForbiddenError;
    case 404:
      return NotFoundError;
    case 409:
      return ConflictError;
    case 413:
      return PayloadTooLargeError;
    case 422:
      return UnprocessableError;
    case 429:
      return RateLimitedError;
    default:
      return status >= 500 && status <= 599 ? ServerError : UnexpectedStatusError;
  }
}

function adviceFor(status: number, param: string | undefined, retryAfterMs: number | undefined): string {
  const wait = retryAfterMs === undefined ? 'later' : `in ${Math.ceil(retryAfterMs / 1000)} s (Retry-After)`;
  switch (status) {
    case 400:
      return param
        ? `Fix the field "${param}"; the same request will fail again.`
        : 'Fix the request; the same request will fail again.';
    case 401:
      return 'Check COASTY_API_KEY: it is missing, wrong or revoked.';
    case 403:
      return 'The key in COASTY_API_KEY may not do this: check its permissions and the account.';
    case 404:
      return 'Check the id, and that COASTY_BASE_URL points at the API root (e.g. https://host/v1).';
    case 409:
      return 'The run is not in a state that allows this, or an Idempotency-Key was reused with a different body.';
    case 413:
      return 'Shorten the task or other fields.';
    case 422:
      return 'The request was understood but refused: check the field values.';
    case 429:
      return `Rate limited: retry ${wait}.`;
    default:
      if (status >= 500 && status <= 599) return `The service failed: retry ${wait}.`;
      return 'This status is not part of the documented API: check COASTY_BASE_URL and any proxy in between.';
  }
}

interface ParsedErrorBody {
  type?: string;
  message?: string;
  param?: string;
}

function parseErrorBody(body: string): ParsedErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const inner = (parsed as { error?: unknown } | null)?.error;
    if (inner === null || typeof inner !== 'object') return undefined;
    const { type, message, param } = inner as Record<string, unknown>;
    return {
      type: typeof type === 'string' ? type : undefined,
      message: typeof message === 'string' ? message : undefined,
      param: typeof param === 'string' ? param : undefined,
    };
  } catch {
    return undefined;
  }
}

/** The typed error for a non-2xx answer, from the documented JSON error body or whatever came instead. */
export function errorFromResponse(failure: HttpFailure): CoastyApiError {
  const { status, method, path } = failure;
  const clean = failure.redact ?? apiRedactor(failure.secret);
  const parsed = parseErrorBody(failure.body);
  const retryAfterMs = capServerDelay(parseRetryAfter(failure.retryAfter, failure.now));
  const param = parsed?.param === undefined ? undefined : quoteBody(clean(parsed.param));
  const type = parsed?.type === undefined ? undefined : quoteBody(clean(parsed.type));
  // Redacted raw, then cut: a secret across the cut or with runs of whitespace still matches.
  const said =
    parsed?.message !== undefined
      ? quoteBody(clean(parsed.message))
      : failure.body.trim()
        ? `non-JSON body: "${quoteBody(clean(failure.body))}"`
        : 'empty body';
  const label = type ? ` ${type}` : '';
  const field = param ? ` (param: ${param})` : '';
  const message =
    `${method} ${path} failed with HTTP ${status}${label}: ${said}${field}. ` +
    adviceFor(status, param, retryAfterMs);
  const Kind = classForStatus(status);
  return new Kind({ message, status, type, param, retryAfterMs, requestId: failure.requestId });
}

const NETWORK_ADVICE = 'Check COASTY_BASE_URL and the network; the call is safe to retry.';

/** A transport failure (no HTTP answer) as a NetworkError; `cause` keeps undici's error. */
export function networkError(what: string, cause: unknown, secret?: string | Redact): NetworkError {
  const clean = typeof secret === 'function' ? secret : apiRedactor(secret);
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const detail = clean(typeof code === 'string' && !reason.includes(code) ? `${code}: ${reason}` : reason);
  return new NetworkError({ message: `${what}: ${quoteBody(detail)}. ${NETWORK_ADVICE}`, cause });
}

// A bad argument to undici is our bug: the same call fails the same way.
const USAGE_ERROR_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);
// A closed client: this worker is shutting down; another attempt (on another worker) can succeed.
const CLOSED_CLIENT_CODES = new Set(['UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** undici refused the request itself (an invalid header, an unsupported option). */
export function isUsageError(error: unknown): boolean {
  const code = codeOf(error);
  return typeof code === 'string' && USAGE_ERROR_CODES.has(code);
}

/** The request met a client already closed (worker shutdown). */
export function isClientClosedError(error: unknown): boolean {
  const code = codeOf(error);
  return typeof code === 'string' && CLOSED_CLIENT_CODES.has(code);
}
