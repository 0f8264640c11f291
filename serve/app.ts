// serve's HTTP surface (Fastify): the pages, the JSON API under /api with the same rules, sign-in,
// signed links, and the change streams that keep pages live. Who may do what is decided here.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { cancelProcess, raiseBudget } from '../client/control';
import { decide, type DecisionSent } from '../client/decide';
import { InboxReader, type WaitingItem } from '../client/inbox';
import { ProcessNotFound, StaleRequest } from '../client/process-errors';
import { SnapshotReader } from '../client/snapshot';
import type { MetricMeter } from '@temporalio/common';
import { signalRunState } from '../client/run-state';
import { isLoopbackHost, type Operators } from './config';
import { DecisionReader } from './decisions';
import { html, type Html } from './html';
import { HttpProblem, problemOf } from './http-errors';
import { checkLink, readLinkProblem, readLinkQuery, type SignedLink } from './links';
import { EventLogProblem, ProcessEventLogs } from './events/event-log';
import type { EventSources } from './events/process-events';
import { streamProcessEvents } from './events/sse';
import type { RecentSteps } from './recent-steps';
import { LiveTopic, streamChanges } from './live';
import {
  cancelPage,
  inboxPage,
  layout,
  linkPage,
  messagePage,
  processPage,
  signInPage,
  type PageContext,
  type ProcessView,
} from './pages';
import { operatorOfToken, SESSION_COOKIE, sameSecret, Sessions, type Session } from './sessions';
import { WebhookReceiver } from './webhooks/receiver';
import { registerWebhookRoute, WEBHOOK_PATH } from './webhooks/route';

export interface AppOptions {
  client: Client;
  /** Token -> operator name; empty: open mode (loopback only, everyone is the local user). */
  operators: Operators;
  linkSecret?: string;
  taskQueue?: string;
  /** How often a followed page re-reads Temporal (default 1000 ms). */
  pollMs?: number;
  /** Trust X-Forwarded-* from a reverse proxy (https detection, client address). */
  trustProxy?: boolean;
  /** Reads each waiting run's last steps from the runs API (masked); without it the inbox shows the last action. */
  recentSteps?: RecentSteps;
  /** The runs API and the secrets to mask, for each process's event stream; without it the stream is a 503. */
  events?: Omit<EventSources, 'client'>;
  /** The runs API's webhook secret: deliveries on POST /webhooks/runs signal their workflows. */
  webhooks?: { secret: string; meter?: MetricMeter };
  log: (line: string) => void;
}

export interface App {
  fastify: FastifyInstance;
  inbox: LiveTopic<WaitingItem[]>;
  webhooks?: WebhookReceiver;
  /** Ends every change stream and every poller, and waits for reads in flight. */
  close(): Promise<void>;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, { type: string; file: URL }> = {
  'live.js': { type: 'text/javascript; charset=utf-8', file: new URL('./static/live.js', import.meta.url) },
  'serve.css': { type: 'text/css; charset=utf-8', file: new URL('./static/serve.css', import.meta.url) },
};
// The webhook path checks its own signatures: the runs API has no session.
const PUBLIC_PATHS = new Set(['/signin', '/link', '/healthz', WEBHOOK_PATH]);
const EVENTS_PATH = /^\/api\/processes\/([^/]+)\/events$/;
const READ_LINK_TTL_SECONDS = 24 * 60 * 60;
const MAX_MESSAGE_CHARS = 2000;
const MAX_ID_CHARS = 1000;
const MAX_READERS = 1000;
const MAX_USED_LINKS = 10_000;

interface Who {
  operator: string;
  session?: Session;
  /** Signed in with a bearer token (API clients): no cookie, so no CSRF token needed. */
  bearer: boolean;
  /** A signed read link to one process's events: nothing else. */
  readLink?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    who?: Who;
  }
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { client, operators, log } = options;
  const openMode = operators.size === 0;
  const localOperator = safeUserName();
  const sessions = new Sessions();
  const flashes = new WeakMap<Session, string>();
  const reader = new InboxReader(client, { taskQueue: options.taskQueue });
  const withSteps = async (items: WaitingItem[]): Promise<WaitingItem[]> => {
    const recent = options.recentSteps;
    if (!recent) return items;
    return Promise.all(
      items.map(async (item) =>
        item.line?.runId && item.requestId
          ? { ...item, recent: await recent.before(item.line.runId, item.requestId) }
          : item,
      ),
    );
  };
  const inboxReader = {
    read: async () => withSteps(await reader.read()),
    itemsOf: async (id: string) => withSteps(await reader.itemsOf(id)),
  };
  const decisionReader = new DecisionReader(client);
  const pollMs = options.pollMs ?? 1000;
  const eventLogs = options.events && new ProcessEventLogs({ client, ...options.events });
  const closing = new AbortController();
  // Every open stream and every cursor check listens for serve's stop.
  setMaxListeners(0, closing.signal);
  /** Signature -> expiry (unix s) of links that decided; an expired link is refused anyway, so it is forgotten. */
  const usedLinks = new Map<string, number>();
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([name, asset]) => [name, { ...asset, body: readFileSync(asset.file) }]),
  );

  const inbox = new LiveTopic(
    () => inboxReader.read(),
    pollMs,
    (error) => log(`inbox: ${errorText(error)}`),
  );
  const processTopics = new Map<string, LiveTopic<unknown>>();
  const processReaders = new Map<string, SnapshotReader>();
  const readerOf = (id: string) => {
    let reader = processReaders.get(id);
    if (!reader) {
      if (processReaders.size >= MAX_READERS) {
        for (const known of processReaders.keys())
          if (!processTopics.has(known)) processReaders.delete(known);
      }
      processReaders.set(id, (reader = new SnapshotReader(client, id, { runs: options.events?.runs })));
    }
    return reader;
  };
  const processView = async (id: string): Promise<ProcessView> => {
    const snapshot = await readerOf(id).read();
    const [decisions, waiting] = await Promise.all([
      decisionReader.read(snapshot),
      snapshot.execution === 'RUNNING' ? inboxReader.itemsOf(id) : Promise.resolve([]),
    ]);
    return { snapshot, decisions, waiting };
  };
  const processTopic = (id: string) => {
    let topic = processTopics.get(id);
    if (!topic) {
      if (closing.signal.aborted) throw new HttpProblem(503, 'unavailable', 'serve is stopping');
      topic = new LiveTopic<unknown>(
        () => processView(id),
        pollMs,
        () => undefined,
        () => {
          processTopics.delete(id);
          processReaders.delete(id);
        },
      );
      processTopics.set(id, topic);
    }
    return topic;
  };

  const fastify = Fastify({ logger: false, trustProxy: options.trustProxy ?? false, bodyLimit: 64 * 1024 });
  // Every handler run is tracked until it settles: one whose client went away (a closed browser)
  // still reads Temporal, and stop() must wait for it, not only for the open connections.
  const handlersInFlight = new Set<Promise<unknown>>();
  fastify.addHook('onRoute', (route) => {
    const handler = route.handler as (this: unknown, ...args: unknown[]) => unknown;
    route.handler = function (this: unknown, ...args: unknown[]) {
      const running = Promise.resolve(handler.apply(this, args));
      handlersInFlight.add(running);
      void running.finally(() => handlersInFlight.delete(running)).catch(() => undefined);
      return running;
    } as typeof route.handler;
  });
  const webhooks =
    options.webhooks &&
    new WebhookReceiver({
      secret: options.webhooks.secret,
      meter: options.webhooks.meter,
      signal: (workflowId, change) => signalRunState(client, workflowId, change),
    });
  if (webhooks) await registerWebhookRoute(fastify, webhooks);
  await fastify.register(cookie);
  await fastify.register(formbody);

  fastify.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  const setSessionCookie = (request: FastifyRequest, reply: FastifyReply, session: Session) => {
    reply.setCookie(SESSION_COOKIE, session.id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      maxAge: 12 * 60 * 60,
    });
  };

  fastify.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (openMode && !isLoopbackHost(hostnameOf(request.headers.host))) {
      // In open mode only this machine may ask: a page of another site that resolves its own name to
      // 127.0.0.1 (DNS rebinding) must not get a session.
      throw new HttpProblem(
        421,
        'host_not_allowed',
        'serve answers only requests addressed to 127.0.0.1 or localhost',
      );
    }
    if (path.startsWith('/assets/') || PUBLIC_PATHS.has(path)) return;
    const query = request.query as Record<string, unknown>;
    const eventsOf = EVENTS_PATH.exec(path);
    if (eventsOf && request.method === 'GET' && query.signature !== undefined) {
      // A page elsewhere follows the events with a signed link: no cookie, any origin, this process only.
      reply.header('Access-Control-Allow-Origin', '*');
      const problem = options.linkSecret
        ? readLinkProblem(decodeURIComponent(eventsOf[1]!), query, options.linkSecret)
        : 'this server signs no links (COASTY_LINK_SECRET is not set)';
      if (problem) throw new HttpProblem(403, 'link_refused', problem);
      request.who = { operator: 'read link', bearer: true, readLink: true };
      return;
    }
    const authorization = request.headers.authorization;
    if (authorization?.startsWith('Bearer ') && path.startsWith('/api/')) {
      const operator = openMode ? undefined : operatorOfToken(operators, authorization.slice(7).trim());
      if (!operator) throw new HttpProblem(401, 'unauthorized', 'the bearer token is not an operator token');
      request.who = { operator, bearer: true };
      return;
    }
    let session = sessions.get(request.cookies[SESSION_COOKIE]);
    if (!session && openMode && request.method === 'GET') {
      session = sessions.create(localOperator);
      setSessionCookie(request, reply, session);
    }
    if (!session) {
      if (path.startsWith('/api/'))
        throw new HttpProblem(
          401,
          'unauthorized',
          'sign in first (POST /signin) or send Authorization: Bearer <operator token>',
        );
      if (request.method === 'GET') return reply.redirect('/signin', 303);
      throw new HttpProblem(401, 'unauthorized', 'your session has ended: sign in again');
    }
    request.who = { operator: session.operator, session, bearer: false };
  });

  fastify.addHook('preHandler', async (request) => {
    if (request.method !== 'POST' || !request.who || request.who.bearer) return;
    const body = request.body as Record<string, unknown> | undefined;
    const given =
      request.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body.csrf : undefined);
    if (typeof given !== 'string' || !sameSecret(given, request.who.session!.csrf)) {
      throw new HttpProblem(
        403,
        'csrf',
        "the form is missing its CSRF token or it is not this session's: reload the page and try again",
      );
    }
  });

  fastify.setErrorHandler((error, request, reply) => {
    let problem: HttpProblem;
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    if (error instanceof HttpProblem || !fastifyError.statusCode) problem = problemOf(error);
    else if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON' || /JSON/.test(fastifyError.message)) {
      problem = new HttpProblem(400, 'malformed_json', `the body is not valid JSON: ${fastifyError.message}`);
    } else {
      problem = new HttpProblem(
        fastifyError.statusCode,
        fastifyError.code ?? 'bad_request',
        fastifyError.message,
      );
    }
    if (problem.status >= 500) log(`${request.method} ${request.url.split('?')[0]}: ${errorText(error)}`);
    if (request.url.startsWith('/api/')) {
      return reply.status(problem.status).send({ error: { code: problem.code, message: problem.message } });
    }
    return sendPage(
      reply,
      problem.status,
      messagePage(titleOf(problem.status), contextOf(request), problem.message, problem.status),
    );
  });

  const contextOf = (request: FastifyRequest, extra: Partial<PageContext> = {}): PageContext => {
    const session = request.who?.session;
    return { operator: request.who?.operator, csrf: session?.csrf, ...extra };
  };
  /** The notice of the last POST goes to the next page the person opens, not to a background fetch. */
  const takeNotice = (request: FastifyRequest): string | undefined => {
    const session = request.who?.session;
    if (!session || request.headers['x-live-refresh'] !== undefined) return undefined;
    const notice = flashes.get(session);
    flashes.delete(session);
    return notice;
  };

  fastify.setNotFoundHandler(async (request) => {
    throw new HttpProblem(404, 'not_found', `nothing at ${request.method} ${request.url.split('?')[0]}`);
  });

  fastify.get('/assets/:name', async (request, reply) => {
    const asset = assets[(request.params as { name: string }).name];
    if (!asset) throw new HttpProblem(404, 'not_found', 'no such file');
    return reply.header('Content-Type', asset.type).header('Cache-Control', 'no-cache').send(asset.body);
  });

  fastify.get('/healthz', async () => ({ ok: true }));

  // ---- sign in ----
  fastify.get('/signin', async (_request, reply) => sendPage(reply, 200, signInPage()));
  fastify.post('/signin', async (request, reply) => {
    const token = stringField(request.body, 'token', 500);
    const operator = openMode ? localOperator : token ? operatorOfToken(operators, token) : undefined;
    if (!operator) return sendPage(reply, 401, signInPage('That token is not an operator token.'));
    const session = sessions.create(operator);
    setSessionCookie(request, reply, session);
    return reply.redirect('/', 303);
  });
  fastify.post('/signout', async (request, reply) => {
    sessions.delete(request.who?.session?.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect(openMode ? '/' : '/signin', 303);
  });

  // ---- inbox ----
  fastify.get('/', async (request, reply) =>
    sendPage(
      reply,
      200,
      inboxPage(
        await inboxReader.read(),
        contextOf(request, { live: '/api/changes?topic=inbox', notice: takeNotice(request) }),
      ),
    ),
  );
  fastify.get('/api/inbox', async () => ({ items: await inboxReader.read() }));

  fastify.get('/api/changes', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    let topic: LiveTopic<unknown>;
    if (query.topic === 'inbox') topic = inbox as LiveTopic<unknown>;
    else if (typeof query.process === 'string' && query.process && query.process.length <= MAX_ID_CHARS) {
      await readerOf(query.process).read(); // 404 for an unknown id, before the stream opens
      topic = processTopic(query.process);
    } else
      throw new HttpProblem(
        400,
        'bad_request',
        'name what to follow: ?topic=inbox or ?process=<workflow id>',
      );
    reply.hijack();
    streamChanges(reply.raw, topic, closing.signal);
  });

  // ---- a process's events (Server-Sent Events, one cursor across every run) ----
  fastify.get('/api/processes/:id/events', async (request, reply) => {
    const id = idParam(request);
    if (!eventLogs) {
      throw new HttpProblem(
        503,
        'events_unavailable',
        "the event stream reads the runs API: start serve with the workers' COASTY_API_KEY (and COASTY_BASE_URL)",
      );
    }
    const query = request.query as Record<string, unknown>;
    const header = request.headers['last-event-id'];
    const lastEventId =
      (typeof header === 'string' && header) ||
      (typeof query.last_event_id === 'string' ? query.last_event_id : '');
    // Only history and the runs API are read: no query, signal or update reaches the process.
    const stream = await eventLogs.open(id).catch((error: unknown) => {
      throw error instanceof WorkflowNotFoundError ? new ProcessNotFound(id) : error;
    });
    let position = 0;
    try {
      if (lastEventId) position = await stream.positionAfter(lastEventId, closing.signal);
    } catch (error) {
      if (error instanceof EventLogProblem) throw new HttpProblem(400, 'unknown_event_id', error.message);
      throw error;
    }
    if (stream.done && position >= stream.events.length) return reply.status(204).send();
    reply.hijack();
    await streamProcessEvents(
      reply.raw,
      stream,
      position,
      closing.signal,
      request.who?.readLink ? { 'Access-Control-Allow-Origin': '*' } : {},
    );
    if (stream.failed !== undefined)
      log(`events of ${id}: ${errorText(stream.failed)} (a reconnect reads again)`);
  });
  fastify.post('/api/processes/:id/read-link', async (request) => {
    const id = idParam(request);
    if (!options.linkSecret)
      throw new HttpProblem(404, 'links_off', 'this server signs no links (COASTY_LINK_SECRET is not set)');
    await readerOf(id).read();
    const expiresAt = Math.floor(Date.now() / 1000) + READ_LINK_TTL_SECONDS;
    const query = readLinkQuery({ workflowId: id, expiresAt }, options.linkSecret);
    return { path: `/api/processes/${encodeURIComponent(id)}/events?${query}`, expiresAt };
  });

  // ---- a process ----
  fastify.get('/processes/:id', async (request, reply) => {
    const id = idParam(request);
    const view = await processView(id);
    return sendPage(
      reply,
      200,
      processPage(
        view,
        contextOf(request, {
          live: `/api/changes?process=${encodeURIComponent(id)}`,
          events: eventLogs ? `/api/processes/${encodeURIComponent(id)}/events` : undefined,
          notice: takeNotice(request),
        }),
      ),
    );
  });
  fastify.get('/api/processes/:id', async (request) => processView(idParam(request)));

  const decideFor = async (request: FastifyRequest): Promise<DecisionSent> => {
    const id = idParam(request);
    const body = request.body;
    const action = stringField(body, 'action', 20);
    if (action !== 'approve' && action !== 'reject') {
      throw new HttpProblem(
        400,
        'bad_request',
        `"action" must be "approve" or "reject"${action ? `, got ${JSON.stringify(action)}` : ''}`,
      );
    }
    const requestId = stringField(body, 'requestId', MAX_ID_CHARS);
    if (!requestId) {
      throw new HttpProblem(
        400,
        'bad_request',
        '"requestId" is required: the pause you decide (from GET /api/inbox)',
      );
    }
    const message = stringField(body, 'message', MAX_MESSAGE_CHARS, true);
    const [sent] = await decide(client, id, {
      action,
      requestId,
      message: message || undefined,
      by: request.who!.operator,
    });
    if (!sent!.accepted) throw new StaleRequest(sent!.target, requestId, 'decided already');
    log(`${request.who!.operator} ${action}d ${sent!.target} (pause ${requestId})`);
    return sent!;
  };
  fastify.post('/processes/:id/decisions', async (request, reply) => {
    const sent = await decideFor(request);
    flash(request, `${sent.action === 'approve' ? 'Approved' : 'Rejected'}: ${sent.reason}`);
    return reply.redirect(`/processes/${encodeURIComponent(idParam(request))}`, 303);
  });
  fastify.post('/api/processes/:id/decisions', async (request) => ({ decision: await decideFor(request) }));

  const raiseFor = async (request: FastifyRequest) => {
    const id = idParam(request);
    const raw = (request.body as Record<string, unknown> | undefined)?.maxCostUsd;
    const maxCostUsd = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (
      typeof maxCostUsd !== 'number' ||
      !Number.isFinite(maxCostUsd) ||
      maxCostUsd <= 0 ||
      maxCostUsd > 1_000_000
    ) {
      throw new HttpProblem(400, 'bad_request', '"maxCostUsd" must be a number of USD above 0, e.g. 12.50');
    }
    const result = await raiseBudget(client, id, { maxCostUsd, by: request.who!.operator });
    log(`${request.who!.operator} raised the budget of ${id} to $${result.maxCostUsd.toFixed(2)}`);
    return { workflowId: id, ...result };
  };
  fastify.post('/processes/:id/budget', async (request, reply) => {
    const result = await raiseFor(request);
    flash(request, `Budget raised to $${result.maxCostUsd.toFixed(2)}.`);
    return reply.redirect(`/processes/${encodeURIComponent(result.workflowId)}`, 303);
  });
  fastify.post('/api/processes/:id/budget', async (request) => raiseFor(request));

  fastify.get('/processes/:id/cancel', async (request, reply) => {
    const snapshot = await readerOf(idParam(request)).read();
    return sendPage(reply, 200, cancelPage(snapshot, contextOf(request)));
  });
  const cancelFor = async (request: FastifyRequest) => {
    const id = idParam(request);
    const confirm = (request.body as Record<string, unknown> | undefined)?.confirm;
    if (confirm !== 'yes' && confirm !== true) {
      throw new HttpProblem(
        400,
        'not_confirmed',
        'cancelling needs "confirm": true (the form\'s confirm button)',
      );
    }
    await cancelProcess(client, id);
    log(`${request.who!.operator} cancelled ${id}`);
    return { workflowId: id, cancelRequested: true };
  };
  fastify.post('/processes/:id/cancel', async (request, reply) => {
    const result = await cancelFor(request);
    flash(request, `Cancellation of ${result.workflowId} requested.`);
    return reply.redirect(`/processes/${encodeURIComponent(result.workflowId)}`, 303);
  });
  fastify.post('/api/processes/:id/cancel', async (request) => cancelFor(request));

  // ---- signed links: a GET shows the question, only the confirm POST decides ----
  const openLink = async (
    params: Record<string, unknown>,
  ): Promise<{ link: SignedLink; signature: string }> => {
    if (!options.linkSecret)
      throw new HttpProblem(404, 'links_off', 'this server signs no links (COASTY_LINK_SECRET is not set)');
    const check = checkLink(params, options.linkSecret);
    if (!check.ok) {
      const status = check.problem === 'expired' ? 410 : check.problem === 'forged' ? 403 : 400;
      throw new HttpProblem(
        status,
        `link_${check.problem}`,
        `This link cannot be used: ${check.message}. Nothing changed.`,
      );
    }
    if (usedLinks.has(check.signature)) {
      throw new HttpProblem(409, 'link_used', 'This link has been used already. Nothing changed.');
    }
    return check;
  };
  const staleLink = (error: unknown): never => {
    if (error instanceof HttpProblem) throw error;
    const problem = problemOf(error);
    if (problem.status === 409 || problem.status === 404) {
      throw new HttpProblem(
        409,
        'link_stale',
        'This pause is over (decided, timed out or ended): the link changes nothing now.',
      );
    }
    throw problem;
  };
  fastify.get('/link', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const { link } = await openLink(query);
    const items = await inboxReader.itemsOf(link.workflowId);
    const item = items.find((candidate) => candidate.requestId === link.requestId);
    if (!item) staleLink(new StaleRequest(link.workflowId, link.requestId, 'not open'));
    const params = new URLSearchParams(
      Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    return sendPage(reply, 200, linkPage(link, item, params));
  });
  fastify.post('/link', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { link, signature } = await openLink(body);
    if (usedLinks.size >= MAX_USED_LINKS) {
      const now = Date.now() / 1000;
      for (const [used, expiresAt] of usedLinks) if (expiresAt <= now) usedLinks.delete(used);
    }
    usedLinks.set(signature, link.expiresAt); // claimed before deciding: two clicks at once decide once
    try {
      const message = stringField(body, 'message', MAX_MESSAGE_CHARS, true);
      const [sent] = await decide(client, link.workflowId, {
        action: link.action,
        requestId: link.requestId,
        message: message || undefined,
        by: `${link.by} (signed link)`,
      }).catch(staleLink);
      if (!sent!.accepted) staleLink(new StaleRequest(link.workflowId, link.requestId, 'decided already'));
      log(`signed link of ${link.by}: ${link.action}d ${link.workflowId} (pause ${link.requestId})`);
      const verb = link.action === 'approve' ? 'Approved' : 'Rejected';
      return sendPage(reply, 200, layout(verb, {}, htmlDone(verb, sent!.reason)));
    } catch (error) {
      if (!(error instanceof HttpProblem && error.code === 'link_stale')) usedLinks.delete(signature);
      throw error;
    }
  });

  function flash(request: FastifyRequest, text: string) {
    const session = request.who?.session;
    if (session) flashes.set(session, text);
  }

  const close = async () => {
    closing.abort();
    await Promise.all([inbox, ...processTopics.values()].map((topic) => topic.stop()));
    await eventLogs?.close();
    await fastify.close();
    await Promise.allSettled([...handlersInFlight]);
  };
  return { fastify, inbox, close, ...(webhooks ? { webhooks } : {}) };
}

function htmlDone(verb: string, reason: string): Html {
  return html`<h1>${verb}</h1>
    <p>Decision recorded for: <span class="agent-text">${reason}</span></p>`;
}

function sendPage(reply: FastifyReply, status: number, page: Html) {
  return reply.status(status).header('Content-Type', 'text/html; charset=utf-8').send(page.text);
}

function idParam(request: FastifyRequest): string {
  const id = (request.params as { id?: string }).id ?? '';
  if (!id || id.length > MAX_ID_CHARS)
    throw new HttpProblem(400, 'bad_request', 'the workflow id in the address is empty or too long');
  return id;
}

function stringField(body: unknown, name: string, max: number, optional = false): string | undefined {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (value === undefined || value === null || value === '') {
    return optional ? undefined : undefined;
  }
  if (typeof value !== 'string') throw new HttpProblem(400, 'bad_request', `"${name}" must be text`);
  if (value.length > max)
    throw new HttpProblem(400, 'bad_request', `"${name}" is longer than ${max} characters`);
  return value;
}

function hostnameOf(host: string | undefined): string {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d+$/, '');
}

function titleOf(status: number): string {
  if (status === 404) return 'Not found';
  if (status === 401 || status === 403) return 'Not allowed';
  if (status === 409 || status === 410) return 'Nothing to do';
  if (status >= 500) return 'Something went wrong';
  return 'Cannot do that';
}

function safeUserName(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return process.env.USER || 'local';
  }
}

function errorText(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}
