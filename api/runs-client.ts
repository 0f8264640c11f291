import { Agent, request, type Dispatcher } from 'undici';
import { readConfigFromEnv, normalizeBaseUrl, validateApiKey } from './config';
import {
  CoastyApiError,
  UnexpectedContentTypeError,
  apiRedactor,
  errorFromResponse,
  isClientClosedError,
  isUsageError,
  networkError,
  quoteBody,
} from './errors';
import { idempotencyKeyHeader } from './idempotency-key';
import type { Redact, Secret } from './redact';
import { RunEventStream, type EventStreamResponse, type StreamEventsOptions } from './stream-events';
import type { CreateRunRequest, Machine, ResumeRequest, Run, RunList, RunStatus } from './types';

export interface RunsClientOptions {
  /** The API root, with or without `/v1` (see normalizeBaseUrl). */
  baseUrl: string;
  apiKey: string;
  /** Time to the response headers. */
  headersTimeoutMs?: number;
  /**
   * Longest silence between body bytes. The server sends a keepalive at least every 15 s, so a
   * stream silent this long is dead; the stream then reconnects with Last-Event-ID.
   */
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
  userAgent?: string;
  /**
   * Values to strip, besides the API key, from everything the server sends before it goes into an
   * error message (the worker's `COASTY_SECRET_*`, which tasks carry to the API). See withSecrets.
   */
  secrets?: readonly Secret[];
}

/** withSecrets passes the Agent through this, so the derived client shares its sockets. */
const SHARED_AGENT = Symbol('sharedAgent');
type InternalOptions = RunsClientOptions & { [SHARED_AGENT]?: Agent };

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface IdempotentRequestOptions extends RequestOptions {
  /**
   * Same key + same body = the first answer again, never a second run or bill. Any string: sent
   * through idempotencyKeyHeader (printable ASCII as is, the rest encoded, long keys hashed).
   */
  idempotencyKey?: string;
}

export interface ListRunsQuery {
  status?: RunStatus;
  machine_id?: string;
  limit?: number;
  after?: string;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const ERROR_BODY_LIMIT = 64 * 1024;
const USER_AGENT = 'coasty-temporal/0.1';

type Body = Dispatcher.ResponseData['body'];

async function readText(body: Body, limit: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length >= limit) {
      body.destroy();
      return text;
    }
  }
  return text + decoder.decode();
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*text\/event-stream\s*(;|$)/i.test(contentType);
}

/** Last-Event-ID as bytes: non-Latin-1 ids go as UTF-8, as browsers send them. */
function toHeaderValue(id: string): string {
  return /^[\x20-\x7e]*$/.test(id) ? id : Buffer.from(id, 'utf8').toString('latin1');
}

/**
 * The runs API over undici, with its own Agent (never the global dispatcher). One instance per
 * process is enough; `close()` it at shutdown (that also ends open streams).
 */
export class RunsClient {
  readonly baseUrl: string;
  readonly #basePath: string;
  readonly #apiKey: string;
  readonly #authorization: string;
  readonly #userAgent: string;
  readonly #agent: Agent;
  readonly #options: RunsClientOptions;
  readonly #redact: Redact;

  constructor(options: RunsClientOptions) {
    this.#options = options;
    this.#apiKey = validateApiKey(options.apiKey);
    this.baseUrl = normalizeBaseUrl(options.baseUrl, this.#apiKey);
    this.#basePath = new URL(this.baseUrl).pathname;
    this.#authorization = `Bearer ${this.#apiKey}`;
    this.#userAgent = options.userAgent ?? USER_AGENT;
    this.#redact = apiRedactor(this.#apiKey, options.secrets);
    this.#agent =
      (options as InternalOptions)[SHARED_AGENT] ??
      new Agent({
        headersTimeout: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
        bodyTimeout: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        // Each open stream holds a socket: any cap starves the streams beyond it.
        connections: null,
      });
  }

  /** From COASTY_BASE_URL and COASTY_API_KEY; throws ConfigError saying what to set. */
  static fromEnv(
    env: Record<string, string | undefined> = process.env,
    options: Omit<RunsClientOptions, 'baseUrl' | 'apiKey'> = {},
  ): RunsClient {
    return new RunsClient({ ...options, ...readConfigFromEnv(env) });
  }

  /**
   * The same client (same sockets: closing either closes both) that also strips `secrets` from
   * every error message built from what the server sent, on the raw text, before it is cut.
   */
  withSecrets(secrets: readonly Secret[]): RunsClient {
    const options: InternalOptions = { ...this.#options, secrets, [SHARED_AGENT]: this.#agent };
    return new RunsClient(options);
  }

  /** Strips the API key, the secrets and bearer tokens from raw text the server sent. */
  redact(text: string): string {
    return this.#redact(text);
  }

  createRun(body: CreateRunRequest, options: IdempotentRequestOptions = {}): Promise<Run> {
    return this.#call<Run>('POST', '/runs', body, options);
  }

  getRun(runId: string, options: RequestOptions = {}): Promise<Run> {
    return this.#call<Run>('GET', `/runs/${encodeURIComponent(runId)}`, undefined, options);
  }

  listRuns(query: ListRunsQuery = {}, options: RequestOptions = {}): Promise<RunList> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(name, String(value));
    }
    const search = params.size > 0 ? `?${params}` : '';
    return this.#call<RunList>('GET', `/runs${search}`, undefined, options);
  }

  /** Safe to retry: on a run that already ended the API answers the run unchanged. */
  cancelRun(runId: string, options: IdempotentRequestOptions = {}): Promise<Run> {
    return this.#call<Run>('POST', `/runs/${encodeURIComponent(runId)}/cancel`, {}, options);
  }

  resumeRun(runId: string, decision: ResumeRequest, options: IdempotentRequestOptions = {}): Promise<Run> {
    return this.#call<Run>('POST', `/runs/${encodeURIComponent(runId)}/resume`, decision, options);
  }

  async listMachines(options: RequestOptions = {}): Promise<Machine[]> {
    const list = await this.#call<{ data: Machine[] }>('GET', '/machines', undefined, options);
    return list.data;
  }

  /** The run's events from `lastEventId` on; see RunEventStream. Iterate it once. */
  streamEvents(runId: string, options: StreamEventsOptions = {}): RunEventStream {
    return new RunEventStream(
      {
        open: (id, lastEventId, signal) => this.#openEventStream(id, lastEventId, signal),
        redact: this.#redact,
      },
      runId,
      options,
    );
  }

  /** Closes the sockets, aborting requests and streams still open. */
  async close(): Promise<void> {
    if (!this.#agent.destroyed) await this.#agent.destroy();
  }

  toJSON(): { baseUrl: string } {
    return { baseUrl: this.baseUrl };
  }

  toString(): string {
    return `RunsClient(${this.baseUrl})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #headers(accept: string): Record<string, string> {
    return { authorization: this.#authorization, accept, 'user-agent': this.#userAgent };
  }

  async #send(
    method: Dispatcher.HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    try {
      return await request(`${this.baseUrl}${path}`, {
        method,
        headers,
        body,
        signal,
        dispatcher: this.#agent,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // Not the network: toActivityFailure types these (a usage error is final, a closed client is not).
      if (isUsageError(error) || isClientClosedError(error)) throw error;
      throw networkError(
        `${method} ${this.#basePath}${path} got no answer from ${this.baseUrl}`,
        error,
        this.#redact,
      );
    }
  }

  async #read(
    response: Dispatcher.ResponseData,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw networkError(`${what}: the answer was cut off`, error, this.#redact);
    }
  }

  async #failure(
    response: Dispatcher.ResponseData,
    method: string,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<CoastyApiError> {
    let body = '';
    try {
      body = await readText(response.body, ERROR_BODY_LIMIT);
    } catch {
      if (signal?.aborted) throw signal.reason;
    }
    return errorFromResponse({
      status: response.statusCode,
      method,
      path: `${this.#basePath}${path}`,
      body,
      retryAfter: response.headers['retry-after'],
      requestId: header(response.headers, 'x-request-id') ?? header(response.headers, 'request-id'),
      redact: this.#redact,
    });
  }

  async #call<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    payload: unknown,
    options: IdempotentRequestOptions,
  ): Promise<T> {
    const { signal, idempotencyKey } = options;
    const headers = this.#headers('application/json');
    let body: string | undefined;
    if (payload !== undefined) {
      body = JSON.stringify(payload);
      headers['content-type'] = 'application/json';
    }
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKeyHeader(idempotencyKey);
    const response = await this.#send(method, path, headers, body, signal);
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw await this.#failure(response, method, path, signal);
    }
    const what = `${method} ${this.#basePath}${path}`;
    const text = await this.#read(response, what, signal);
    try {
      return JSON.parse(text) as T;
    } catch {
      const contentType = header(response.headers, 'content-type') ?? 'none';
      throw new UnexpectedContentTypeError({
        status: response.statusCode,
        message:
          `${what} answered HTTP ${response.statusCode} (${contentType}) but not JSON: ` +
          `"${quoteBody(this.#redact(text))}". A proxy in between, or COASTY_BASE_URL not the API root?`,
      });
    }
  }

  async #openEventStream(
    runId: string,
    lastEventId: string,
    signal: AbortSignal | undefined,
  ): Promise<EventStreamResponse> {
    const path = `/runs/${encodeURIComponent(runId)}/events`;
    const headers = this.#headers('text/event-stream');
    headers['cache-control'] = 'no-cache';
    if (lastEventId !== '') headers['last-event-id'] = toHeaderValue(lastEventId);
    const response = await this.#send('GET', path, headers, undefined, signal);
    if (response.statusCode === 204) {
      await response.body.dump().catch(() => undefined);
      return { finished: true };
    }
    if (response.statusCode !== 200) throw await this.#failure(response, 'GET', path, signal);
    const contentType = header(response.headers, 'content-type');
    if (!isEventStream(contentType)) {
      const text = await readText(response.body, 1024).catch(() => '');
      response.body.destroy();
      throw new UnexpectedContentTypeError({
        status: 200,
        message:
          `GET ${this.#basePath}${path} answered ${contentType ?? 'no content type'} instead of text/event-stream: ` +
          `"${quoteBody(this.#redact(text))}". A proxy or captive page in between, or COASTY_BASE_URL not the API root?`,
      });
    }
    return { finished: false, body: response.body };
  }
}
