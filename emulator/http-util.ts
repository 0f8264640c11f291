// Small HTTP helpers: error type, JSON replies, bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiErrorBody } from '../api/types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly param?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const invalid = (message: string, param?: string): ApiError =>
  new ApiError(400, 'invalid_request', message, param);
export const notFound = (message: string): ApiError => new ApiError(404, 'not_found', message);
export const conflict = (message: string, param?: string): ApiError =>
  new ApiError(409, 'conflict', message, param);

export function errorReply(err: ApiError): Reply {
  const body: ApiErrorBody = { error: { type: err.type, message: err.message } };
  if (err.param !== undefined) body.error.param = err.param;
  return { status: err.status, body, headers: err.headers };
}

export function sendJson(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...reply.headers,
  });
  res.end(text);
}

// Reading past the limit (discarding) lets the client finish sending and read the 413 instead of
// seeing a reset connection; beyond DRAIN_CAP the connection is cut.
const DRAIN_CAP = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  return new Promise((resolve, reject) => {
    const tooLarge = new ApiError(
      413,
      'payload_too_large',
      `request body is larger than ${maxBytes} bytes`,
      undefined,
      { Connection: 'close' },
    );
    if (declared > DRAIN_CAP) {
      req.resume();
      reject(tooLarge);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_CAP) {
        req.destroy();
        return;
      }
      if (size <= maxBytes) chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (size > maxBytes) reject(tooLarge);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(invalid('the request body was cut off'));
    });
  });
}

export function parseJsonObject(text: string, required: boolean): Record<string, unknown> {
  if (text.trim() === '') {
    if (required) throw invalid('request body must be a JSON object');
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
