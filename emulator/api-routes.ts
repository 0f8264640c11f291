// The public runs API under /v1: routing, auth, rate limits, injected faults, idempotency.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EndpointClass } from './config';
import type { EmulatorContext } from './context';
import { snapshot, type RunRecord } from './engine';
import {
  ApiError,
  bearerToken,
  canonicalJson,
  conflict,
  errorReply,
  invalid,
  notFound,
  parseJsonObject,
  readBody,
  sendJson,
  type Reply,
} from './http-util';
import { HTML_ERROR_PAGE } from './stream';
import { validateCancel, validateCreate, validateList, validateResume } from './validate';

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  key: string;
  params: string[];
  body: Record<string, unknown>;
}

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  cls: EndpointClass;
  stream?: boolean;
  handle(ctx: EmulatorContext, r: Request): Reply | void;
}

const RUN_ID = '([A-Za-z0-9_-]{1,128})';

const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/machines$/,
    cls: 'machines',
    handle: (ctx) => ok({ data: ctx.engine.machineList() }),
  },
  { method: 'POST', pattern: /^\/v1\/runs$/, cls: 'create', handle: createRun },
  { method: 'GET', pattern: /^\/v1\/runs$/, cls: 'list', handle: listRuns },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/runs/${RUN_ID}$`),
    cls: 'get',
    handle: (ctx, r) => ok(snapshot(runOf(ctx, r))),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/runs/${RUN_ID}/events$`),
    cls: 'stream',
    stream: true,
    handle: streamRun,
  },
  { method: 'POST', pattern: new RegExp(`^/v1/runs/${RUN_ID}/cancel$`), cls: 'cancel', handle: cancelRun },
  { method: 'POST', pattern: new RegExp(`^/v1/runs/${RUN_ID}/resume$`), cls: 'resume', handle: resumeRun },
];

const RETRY_AFTER_DEFAULT_SECONDS = 1;
const FAULT_TYPES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

export async function handleApi(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  ctx.counters.requests++;
  const method = req.method ?? 'GET';
  let route: Route | undefined;
  let params: string[] = [];
  let pathKnown = false;
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(url.pathname);
    if (!match) continue;
    pathKnown = true;
    if (candidate.method === method) {
      route = candidate;
      params = match.slice(1);
      break;
    }
  }
  if (route) {
    const delay = ctx.faults.headerDelayMs(route.cls);
    if (delay > 0) await sleep(delay);
  }
  const key = bearerToken(req);
  if (key === null || !ctx.apiKeys.has(key)) {
    ctx.counters.unauthorized++;
    req.resume();
    sendJson(res, unauthorized(key === null));
    return;
  }
  if (!route) {
    req.resume();
    const reply = pathKnown
      ? errorReply(new ApiError(405, 'invalid_request', `method ${method} is not allowed on ${url.pathname}`))
      : errorReply(notFound(`no such endpoint: ${method} ${url.pathname}`));
    sendJson(res, reply);
    return;
  }
  try {
    const rawBody = method === 'POST' ? await readBody(req, ctx.config.limits.maxBodyBytes) : '';
    if (method !== 'POST') req.resume();
    const wait = ctx.limiter.take(key);
    if (wait > 0) {
      ctx.counters.rate_limited++;
      throw new ApiError(
        429,
        'rate_limited',
        `rate limit exceeded for this API key; retry in ${wait} s`,
        undefined,
        {
          'Retry-After': String(wait),
        },
      );
    }
    const fault = ctx.faults.errorFor(route.cls);
    if (fault) {
      ctx.counters.faults_injected++;
      const retryAfter =
        fault.retryAfterSeconds ??
        (fault.status === 429 || fault.status === 503 ? RETRY_AFTER_DEFAULT_SECONDS : undefined);
      throw new ApiError(
        fault.status,
        FAULT_TYPES[fault.status] ?? 'server_error',
        `injected fault: ${fault.status} (emulator fault configuration)`,
        undefined,
        retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
      );
    }
    const body =
      method === 'POST' ? parseJsonObject(rawBody, route.cls === 'create' || route.cls === 'resume') : {};
    const request: Request = { req, res, url, key, params, body };
    if (route.stream) {
      route.handle(ctx, request);
      return;
    }
    const reply =
      method === 'POST' ? withIdempotency(ctx, request, route) : (route.handle(ctx, request) as Reply);
    if (ctx.faults.loseResponse(route.cls)) {
      ctx.counters.responses_lost++;
      res.socket?.destroy();
      return;
    }
    sendJson(res, reply);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (!res.headersSent) sendJson(res, errorReply(err));
  }
}

function withIdempotency(ctx: EmulatorContext, r: Request, route: Route): Reply {
  const header = r.req.headers['idempotency-key'];
  if (header === undefined) return route.handle(ctx, r) as Reply;
  const idemKey = Array.isArray(header) ? (header[0] ?? '') : header;
  if (idemKey.length < 1 || idemKey.length > 255) {
    throw invalid('Idempotency-Key must be 1 to 255 characters', 'Idempotency-Key');
  }
  const fingerprint = `POST ${r.url.pathname}\n${canonicalJson(r.body)}`;
  const found = ctx.idempotency.lookup(r.key, idemKey, fingerprint);
  if (found.kind === 'conflict') {
    ctx.counters.idempotency_conflicts++;
    throw conflict('Idempotency-Key was already used with a different request', 'Idempotency-Key');
  }
  if (found.kind === 'replay') {
    ctx.counters.idempotent_replays++;
    return { ...found.reply, headers: { ...found.reply.headers, 'Idempotent-Replayed': 'true' } };
  }
  const reply = route.handle(ctx, r) as Reply;
  if (reply.status >= 200 && reply.status < 300) ctx.idempotency.save(r.key, idemKey, fingerprint, reply);
  return reply;
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function unauthorized(missing: boolean): Reply {
  const reply = errorReply(
    new ApiError(
      401,
      'unauthorized',
      missing ? 'missing Authorization header; send "Authorization: Bearer <api key>"' : 'invalid API key',
    ),
  );
  return { ...reply, headers: { 'WWW-Authenticate': 'Bearer' } };
}

function runOf(ctx: EmulatorContext, r: Request): RunRecord {
  const id = r.params[0] ?? '';
  const rec = ctx.engine.get(id);
  if (!rec) throw notFound(`no run with id "${id}"`);
  return rec;
}

function createRun(ctx: EmulatorContext, r: Request): Reply {
  const input = validateCreate(r.body, {
    maxTaskChars: ctx.config.limits.maxTaskChars,
    machines: ctx.machineSet,
  });
  return ok(ctx.engine.create(input).created);
}

function listRuns(ctx: EmulatorContext, r: Request): Reply {
  const query = validateList(r.url.searchParams, ctx.machineSet, (id) => ctx.engine.get(id) !== undefined);
  return ok(ctx.engine.list(query));
}

function cancelRun(ctx: EmulatorContext, r: Request): Reply {
  const rec = runOf(ctx, r);
  const { reason } = validateCancel(r.body);
  ctx.engine.cancel(rec, reason ?? 'cancelled by the client');
  return ok(snapshot(rec));
}

function resumeRun(ctx: EmulatorContext, r: Request): Reply {
  const rec = runOf(ctx, r);
  const { action, message } = validateResume(r.body);
  ctx.engine.resume(rec, action, message);
  return ok(snapshot(rec));
}

function streamRun(ctx: EmulatorContext, r: Request): void {
  const rec = runOf(ctx, r);
  const header = r.req.headers['last-event-id'];
  const fromHeader = typeof header === 'string' && header !== '';
  const lastId = fromHeader ? header : r.url.searchParams.get('last_event_id') || null;
  let startIndex = 0;
  if (lastId !== null) {
    const index = ctx.engine.eventIndex(rec, lastId);
    if (index < 0) {
      throw invalid(
        `"${lastId}" is not an event id of run ${rec.run.id}`,
        fromHeader ? 'Last-Event-ID' : 'last_event_id',
      );
    }
    ctx.counters.reconnects_with_last_event_id++;
    if (rec.events[index]?.terminal) {
      r.res.writeHead(204).end();
      return;
    }
    const resend = Math.min(index + 1, ctx.faults.streamPlan().resendOnResume);
    ctx.counters.events_resent += resend;
    startIndex = index + 1 - resend;
  }
  const cap = ctx.config.stream.maxOpenPerKey;
  if (cap !== null && ctx.hub.openCount(r.key) >= cap) {
    ctx.counters.rate_limited++;
    throw new ApiError(
      429,
      'rate_limited',
      `too many open streams for this API key (limit ${cap})`,
      undefined,
      {
        'Retry-After': String(RETRY_AFTER_DEFAULT_SECONDS),
      },
    );
  }
  ctx.counters.stream_connections++;
  const { malformed } = ctx.faults.streamPlan();
  if (malformed === 'html_error_200') {
    r.res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(HTML_ERROR_PAGE);
    return;
  }
  ctx.hub.open(r.res, rec, { key: r.key, startIndex, malformed });
}
