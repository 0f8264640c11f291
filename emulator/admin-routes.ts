// The admin API under /_emulator, for tests: scripts, faults, counters, reset, the truth of a run.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { behaviourSchema, faultsSchema } from './config';
import type { EmulatorContext } from './context';
import { snapshotCounters } from './counters';
import type { HeldRun } from './admin-client';
import { snapshot, type RunRecord, type ScriptEntry } from './engine';
import {
  ApiError,
  bearerToken,
  errorReply,
  invalid,
  notFound,
  parseJsonObject,
  readBody,
  sendJson,
  type Reply,
} from './http-util';

export const scriptSchema = behaviourSchema.extend({
  match: z.string().min(1).optional(),
  flags: z
    .string()
    .regex(/^[imsu]*$/)
    .optional(),
  times: z.number().int().min(1).optional(),
});
export type ScriptInput = z.input<typeof scriptSchema>;

const ADMIN_BODY_LIMIT = 1024 * 1024;

export async function handleAdmin(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    if (bearerToken(req) !== ctx.adminKey) {
      req.resume();
      throw new ApiError(401, 'unauthorized', 'the admin API needs "Authorization: Bearer <admin key>"');
    }
    const raw = req.method === 'GET' ? '' : await readBody(req, ADMIN_BODY_LIMIT);
    if (req.method === 'GET') req.resume();
    sendJson(res, route(ctx, req.method ?? 'GET', url.pathname.replace(/\/+$/, ''), raw));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    sendJson(res, errorReply(err));
  }
}

function route(ctx: EmulatorContext, method: string, path: string, raw: string): Reply {
  const key = `${method} ${path}`;
  switch (key) {
    case 'GET /_emulator/health': {
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      return ok({
        ok: true,
        pid: process.pid,
        open_streams: ctx.hub.size,
        memory: { rss, heapUsed, heapTotal, external },
      });
    }
    case 'GET /_emulator/config':
      return ok({ ...ctx.config, faults: ctx.faults.current });
    case 'GET /_emulator/counters':
      return ok(snapshotCounters(ctx.counters));
    case 'POST /_emulator/reset':
      ctx.reset();
      return ok({ ok: true });
    case 'GET /_emulator/script':
      return ok({ data: ctx.engine.scripts.map(describeScript) });
    case 'POST /_emulator/script': {
      const entries = parseScripts(raw);
      ctx.engine.enqueueScripts(entries);
      return ok({ pending: ctx.engine.scripts.length });
    }
    case 'DELETE /_emulator/script':
      ctx.engine.scripts = [];
      return ok({ pending: 0 });
    case 'GET /_emulator/faults':
      return ok(ctx.faults.current);
    case 'PUT /_emulator/faults': {
      const parsed = faultsSchema.safeParse(parseJsonObject(raw, true));
      if (!parsed.success) throw invalid(`invalid faults: ${z.prettifyError(parsed.error)}`);
      ctx.faults.set(parsed.data);
      return ok(ctx.faults.current);
    }
    case 'DELETE /_emulator/faults':
      ctx.faults.set({});
      return ok({});
    case 'PUT /_emulator/api-keys': {
      const parsed = apiKeysSchema.safeParse(parseJsonObject(raw, true));
      if (!parsed.success) throw invalid(`invalid api-keys: ${z.prettifyError(parsed.error)}`, 'keys');
      ctx.apiKeys = new Set(parsed.data.keys);
      const closed = ctx.hub.closeRefused(ctx.apiKeys);
      return ok({ accepted: ctx.apiKeys.size, streams_closed: closed });
    }
    case 'GET /_emulator/holds':
      return ok({ data: ctx.engine.heldRuns().map(describeHold) });
    case 'POST /_emulator/holds/release': {
      const filter = parseRelease(raw);
      const released = ctx.engine
        .heldRuns()
        .filter(
          (rec) =>
            (filter.runId === undefined || rec.run.id === filter.runId) &&
            (!filter.match || filter.match.test(rec.run.task)),
        )
        .filter((rec) => ctx.engine.release(rec));
      return ok({ released: released.length, run_ids: released.map((rec) => rec.run.id) });
    }
  }
  const runMatch = /^\/_emulator\/runs\/([^/]+)(\/events)?$/.exec(path);
  if (runMatch && method === 'GET') {
    const rec = ctx.engine.get(runMatch[1] ?? '');
    if (!rec) throw notFound(`no run with id "${runMatch[1]}"`);
    if (runMatch[2]) return ok({ data: rec.events.map((e) => JSON.parse(e.json) as unknown) });
    return ok({ run: snapshot(rec), plan: rec.plan, open_streams: rec.streams.size });
  }
  throw notFound(`no such admin endpoint: ${method} ${path}`);
}

function parseScripts(raw: string): ScriptEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw invalid(`request body is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const parsed = scriptSchema.safeParse(item);
    if (!parsed.success) throw invalid(`script ${i}: ${z.prettifyError(parsed.error)}`);
    const { match, flags, times, ...behaviour } = parsed.data;
    let regex: RegExp | null = null;
    if (match !== undefined) {
      try {
        regex = new RegExp(match, flags);
      } catch (err) {
        throw invalid(`script ${i}: match is not a valid regex: ${(err as Error).message}`, 'match');
      }
    }
    return { match: regex, behaviour, remaining: times ?? 1 };
  });
}

const apiKeysSchema = z.strictObject({
  keys: z.array(z.string().min(1).max(512)).min(1, 'name at least one key, or the emulator accepts nobody'),
});

const releaseSchema = z.strictObject({
  run_id: z.string().min(1).optional(),
  match: z.string().min(1).optional(),
  flags: z
    .string()
    .regex(/^[imsu]*$/)
    .optional(),
});

// An empty body releases every held run; run_id and match (a regex on the task) narrow it.
function parseRelease(raw: string): { runId?: string; match?: RegExp } {
  const parsed = releaseSchema.safeParse(parseJsonObject(raw, false));
  if (!parsed.success) throw invalid(`invalid release: ${z.prettifyError(parsed.error)}`);
  const { run_id: runId, match, flags } = parsed.data;
  if (match === undefined) return { runId };
  try {
    return { runId, match: new RegExp(match, flags) };
  } catch (err) {
    throw invalid(`match is not a valid regex: ${(err as Error).message}`, 'match');
  }
}

function describeHold(rec: RunRecord): HeldRun {
  return {
    run_id: rec.run.id,
    task: rec.run.task,
    step: rec.held!.step,
    since: rec.held!.since,
    open_streams: rec.streams.size,
  };
}

function describeScript(entry: ScriptEntry): Record<string, unknown> {
  return {
    ...entry.behaviour,
    match: entry.match?.source ?? null,
    remaining: entry.remaining,
  };
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}
