// Shared helpers of the emulator tests: start/stop, plain HTTP calls, raw SSE reading, waiting.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import type { Run, RunEvent } from '../../api/types';
import {
  startEmulator,
  type EmulatorConfigInput,
  type RunningEmulator,
  type StartEmulatorOptions,
} from '../../emulator/index';

export const FAST: EmulatorConfigInput = { agent: { paceMs: 1 } };

export async function emulator(t: TestContext, options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const emu = await startEmulator({ ...options, config: { ...FAST, ...options.config } });
  t.after(() => emu.stop());
  return emu;
}

export interface HttpReply<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: T;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  key?: string | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read error bodies loosely
export async function call<T = any>(
  emu: RunningEmulator,
  path: string,
  options: CallOptions = {},
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? emu.apiKey : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const url = new URL(path, emu.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: json as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function createRun(
  emu: RunningEmulator,
  fields: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Run> {
  const reply = await call<Run>(emu, '/v1/runs', {
    body: { machine_id: 'm-1', task: 'Open the portal', ...fields },
    headers,
  });
  if (reply.status !== 200) throw new Error(`create run: ${reply.status} ${reply.text}`);
  return reply.json;
}

export async function getRun(emu: RunningEmulator, id: string): Promise<Run> {
  const reply = await call<Run>(emu, `/v1/runs/${id}`);
  if (reply.status !== 200) throw new Error(`get run: ${reply.status} ${reply.text}`);
  return reply.json;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(50, delay * 2);
  }
}

export function waitForStatus(emu: RunningEmulator, id: string, ...statuses: string[]): Promise<Run> {
  return waitFor(`run ${id} to be ${statuses.join('|')}`, async () => {
    const run = await getRun(emu, id);
    return statuses.includes(run.status) ? run : undefined;
  });
}

export const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export function waitForEnd(emu: RunningEmulator, id: string): Promise<Run> {
  return waitForStatus(emu, id, ...TERMINAL);
}

export function frame(event: RunEvent): string {
  return `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
}

export interface RawStream {
  status: number;
  headers: IncomingHttpHeaders;
  chunks: string[];
  text: string;
  ended: boolean;
  errored: boolean;
  done: Promise<void>;
  waitForText(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  close(): void;
  resume(): void;
}

// Opens GET .../events with node:http so tests see status, headers and each chunk as sent.
export function openStream(
  emu: RunningEmulator,
  runId: string,
  options: { lastEventId?: string; query?: string; key?: string; paused?: boolean } = {},
): Promise<RawStream> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    authorization: `Bearer ${options.key ?? emu.apiKey}`,
  };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const url = new URL(`/v1/runs/${runId}/events${options.query ?? ''}`, emu.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const decoder = new TextDecoder();
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const stream: RawStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        chunks: [],
        text: '',
        ended: false,
        errored: false,
        done,
        waitForText: (pattern, timeoutMs) =>
          waitFor(
            `stream text ${String(pattern)}`,
            () => (typeof pattern === 'string' ? stream.text.includes(pattern) : pattern.test(stream.text)),
            timeoutMs,
          ).then(() => undefined),
        close: () => req.destroy(),
        resume: () => res.resume(),
      };
      res.on('data', (chunk: Buffer) => {
        const text = decoder.decode(chunk, { stream: true });
        stream.chunks.push(text);
        stream.text += text;
      });
      res.on('end', () => {
        stream.ended = true;
        finish();
      });
      res.on('error', () => {
        stream.errored = true;
        finish();
      });
      res.on('close', () => {
        if (!stream.ended) stream.errored = true;
        finish();
      });
      if (options.paused) res.pause();
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface ParsedBlock {
  id?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

// A strict little parser for the emulator's own output (LF only, one data line per event).
export function parseBlocks(text: string): ParsedBlock[] {
  const blocks: ParsedBlock[] = [];
  for (const raw of text.split('\n\n')) {
    if (raw === '') continue;
    const block: ParsedBlock = { comments: [] };
    for (const line of raw.split('\n')) {
      if (line.startsWith(':')) block.comments.push(line);
      else if (line.startsWith('id: ')) block.id = line.slice(4);
      else if (line.startsWith('data: ')) block.data = line.slice(6);
      else if (line.startsWith('retry: ')) block.retry = line.slice(7);
      else throw new Error(`unexpected line ${JSON.stringify(line)}`);
    }
    blocks.push(block);
  }
  return blocks;
}

export function eventsOf(text: string): RunEvent[] {
  return parseBlocks(text)
    .filter((b) => b.data !== undefined)
    .map((b) => JSON.parse(b.data as string) as RunEvent);
}
