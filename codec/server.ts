// A codec server: lets the Temporal Web UI and the `temporal` CLI show encrypted histories in clear.
// They POST `{"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}` to /decode (and
// /encode, to send signals or queries from the UI) and get the same shape back.
//   COASTY_CODEC_KEY=... npx coasty-temporal codec-server [--port 8888] [--origin http://localhost:8233]
// then `temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888`, or in the UI's
// settings ("Codec Server"), or `temporal workflow show --codec-endpoint http://127.0.0.1:8888 -w <id>`.
// Whoever can reach /decode can read every payload: it listens on 127.0.0.1 only unless given a token
// (then every request needs `Authorization: Bearer <token>`), and answers browsers only from the
// allowed origins (CORS).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Browser origins allowed to call (the Web UI's). Default: the dev server's UI on port 8233. */
  origins?: string[];
  /** Largest request body (default 32 MB: a page of history with large payloads). */
  maxBodyBytes?: number;
  /**
   * Required as `Authorization: Bearer <token>` on every request but CORS preflights (the Web UI
   * sends one when set in its codec settings). Without it the server listens on loopback only.
   */
  token?: string;
}

export class CodecServerConfigError extends Error {
  override name = 'CodecServerConfigError';
}

const MIN_TOKEN_CHARS = 16;

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return given !== '' && timingSafeEqual(digest(given), digest(token));
}

export interface CodecServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fromJson(payload: JsonPayload, index: number): Payload {
  if (payload === null || typeof payload !== 'object')
    throw new HttpError(400, `payloads[${index}] is not an object`);
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (typeof value !== 'string')
      throw new HttpError(400, `payloads[${index}].metadata.${key} is not base64 text`);
    metadata[key] = Buffer.from(value, 'base64');
  }
  if (payload.data !== undefined && typeof payload.data !== 'string') {
    throw new HttpError(400, `payloads[${index}].data is not base64 text`);
  }
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    metadata[key] = Buffer.from(value ?? new Uint8Array()).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () =>
      size > limit
        ? reject(new HttpError(413, `request body is larger than ${limit} bytes`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

function corsHeaders(req: IncomingMessage, origins: readonly string[]): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec } = options;
  const origins = options.origins ?? DEFAULT_UI_ORIGINS;
  const limit = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const host = options.host ?? '127.0.0.1';
  const token = options.token?.trim() || undefined;
  if (!token && !isLoopback(host)) {
    throw new CodecServerConfigError(
      `--host ${host} lets other machines read every payload: set COASTY_CODEC_SERVER_TOKEN (at least ${MIN_TOKEN_CHARS} characters) ` +
        'and give the same token to the Web UI (its codec server settings pass it as Authorization), or keep --host 127.0.0.1',
    );
  }
  if (token && token.length < MIN_TOKEN_CHARS) {
    throw new CodecServerConfigError(
      `COASTY_CODEC_SERVER_TOKEN has ${token.length} characters; use at least ${MIN_TOKEN_CHARS} (e.g. openssl rand -hex 24)`,
    );
  }

  const server = createServer((req, res) => {
    const cors = corsHeaders(req, origins);
    const path = new URL(req.url ?? '/', 'http://codec.local').pathname.replace(/\/+$/, '');
    if (req.headers.origin && !cors['Access-Control-Allow-Origin']) {
      req.resume();
      send(res, 403, { message: `origin ${req.headers.origin} is not allowed (see --origin)` }, {});
      return;
    }
    if (req.method === 'OPTIONS') {
      req.resume();
      res.writeHead(204, cors).end();
      return;
    }
    if (token && !authorized(req, token)) {
      req.resume();
      send(
        res,
        401,
        { message: 'Authorization: Bearer <COASTY_CODEC_SERVER_TOKEN> is missing or wrong' },
        cors,
      );
      return;
    }
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) {
      req.resume();
      send(res, 404, { message: 'POST /encode or POST /decode' }, cors);
      return;
    }
    void (async () => {
      try {
        let body: { payloads?: unknown };
        try {
          body = JSON.parse(await readBody(req, limit));
        } catch (error) {
          if (error instanceof HttpError) throw error;
          throw new HttpError(400, 'the body is not JSON');
        }
        if (!Array.isArray(body?.payloads)) throw new HttpError(400, 'the body must be {"payloads": [...]}');
        const payloads = body.payloads.map((p, i) => fromJson(p as JsonPayload, i));
        const out = path === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
        send(res, 200, { payloads: out.map(toJson) }, cors);
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 400;
        send(res, status, { message: (error as Error).message }, cors);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
