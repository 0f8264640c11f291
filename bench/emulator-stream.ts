// Emulator stream benchmark: events/s on one stream, and how many open streams (with
// keepalives) one emulator process holds, with its memory per stream.
//   node --import tsx bench/emulator-stream.ts [--events 200000] [--streams 5000] [--hold-ms 5000]
// The emulator runs in a child process (emulator/main.ts) so client and server do not share a
// thread; everything binds 127.0.0.1. Writes bench/results/emulator.json.
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createParser } from 'eventsource-parser';
import { EmulatorAdmin } from '../emulator/admin-client';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const API_KEY = 'bench_key';
const ADMIN_KEY = 'bench_admin';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    streams: { type: 'string', default: '5000' },
    'hold-ms': { type: 'string', default: '5000' },
    'keepalive-ms': { type: 'string', default: '1000' },
    'time-limit-ms': { type: 'string', default: '120000' },
  },
});
const STEPS = Number(values.events);
const MAX_STREAMS = Number(values.streams);
const HOLD_MS = Number(values['hold-ms']);
const KEEPALIVE_MS = Number(values['keepalive-ms']);
const TIME_LIMIT_MS = Number(values['time-limit-ms']);

interface Emulator {
  url: string;
  admin: EmulatorAdmin;
  stop(): Promise<void>;
}

async function startChild(): Promise<Emulator> {
  const configPath = join(os.tmpdir(), `coasty-emu-bench-${process.pid}.json`);
  await writeFile(
    configPath,
    JSON.stringify({
      stream: { keepaliveMs: KEEPALIVE_MS, maxOpenPerKey: null },
      agent: { paceMs: 0 },
      machines: 8,
    }),
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'emulator/main.ts'),
      '--port',
      '0',
      '--api-key',
      API_KEY,
      '--admin-key',
      ADMIN_KEY,
      '--config',
      configPath,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await rm(configPath, { force: true });
  return {
    url,
    admin: new EmulatorAdmin(url, ADMIN_KEY),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function api<T>(emu: Emulator, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

// One stream, parsed with eventsource-parser the way a client would.
function streamEvents(
  emu: Emulator,
  runId: string,
): Promise<{ events: number; firstByteMs: number; endMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let bytes = 0;
    let firstByteMs = 0;
    const parser = createParser({ onEvent: () => events++ });
    const decoder = new TextDecoder();
    const req = request(
      `${emu.url}/v1/runs/${runId}/events`,
      { headers: { authorization: `Bearer ${API_KEY}` }, agent: false },
      (res) => {
        res.on('data', (chunk: Buffer) => {
          if (firstByteMs === 0) firstByteMs = performance.now();
          bytes += chunk.length;
          parser.feed(decoder.decode(chunk, { stream: true }));
        });
        res.on('end', () => resolve({ events, firstByteMs, endMs: performance.now(), bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function oneStream(emu: Emulator): Promise<Record<string, number>> {
  // Live: the stream is open before the run starts, so this measures generation plus delivery.
  const blocker = await api<{ id: string }>(emu, 'POST', '/v1/runs', {
    machine_id: 'm-1',
    task: 'hold [human@1]',
  });
  const run = await api<{ id: string }>(emu, 'POST', '/v1/runs', {
    machine_id: 'm-1',
    task: `bench [steps=${STEPS}]`,
  });
  const pending = streamEvents(emu, run.id);
  await waitUntil('the stream', async () => (await emu.admin.counters()).open_streams === 1, 10000);
  const writesBefore = (await emu.admin.counters()).stream_writes;
  const started = performance.now();
  await api(emu, 'POST', `/v1/runs/${blocker.id}/cancel`);
  const live = await pending;
  const liveWrites = (await emu.admin.counters()).stream_writes - writesBefore;
  // Replay: the same run again from the start, all events already stored.
  const replayStart = performance.now();
  const replay = await streamEvents(emu, run.id);
  return {
    events: live.events,
    live_events_per_s: Math.round(live.events / ((live.endMs - started) / 1000)),
    live_seconds: round((live.endMs - started) / 1000, 3),
    live_socket_writes: liveWrites,
    replay_events_per_s: Math.round(replay.events / ((replay.endMs - replayStart) / 1000)),
    replay_mb_per_s: round(replay.bytes / 1e6 / ((replay.endMs - replayStart) / 1000), 1),
    bytes_per_event: Math.round(replay.bytes / replay.events),
  };
}

interface HeldStream {
  req: ClientRequest;
  keepalives: number;
  events: number;
  ended: boolean;
}

function holdStream(
  emu: Emulator,
  runId: string,
  opened: () => void,
  failed: (err: Error) => void,
): HeldStream {
  const held: HeldStream = {
    req: undefined as unknown as ClientRequest,
    keepalives: 0,
    events: 0,
    ended: false,
  };
  held.req = request(
    `${emu.url}/v1/runs/${runId}/events`,
    { headers: { authorization: `Bearer ${API_KEY}` }, agent: false },
    (res) => {
      if (res.statusCode !== 200) {
        failed(new Error(`status ${res.statusCode}`));
        res.resume();
        return;
      }
      let first = true;
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        if (first) {
          first = false;
          opened();
        }
        held.keepalives += text.split(': keepalive\n').length - 1;
        held.events += text.split('\ndata: ').length - 1;
      });
      res.on('end', () => (held.ended = true));
      res.on('error', () => undefined);
    },
  );
  held.req.on('error', failed);
  held.req.end();
  return held;
}

async function manyStreams(emu: Emulator, deadline: number): Promise<Record<string, number | string>> {
  const runs = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      api<{ id: string }>(emu, 'POST', '/v1/runs', {
        machine_id: `m-${i + 5}`,
        task: `fan-out ${i} [human@1] [steps=5]`,
      }),
    ),
  );
  for (const run of runs) {
    await waitUntil(
      'pause',
      async () =>
        (await api<{ status: string }>(emu, 'GET', `/v1/runs/${run.id}`)).status === 'awaiting_human',
      10000,
    );
  }
  const base = (await emu.admin.health()).memory;
  const held: HeldStream[] = [];
  let stopReason = `reached the bound of ${MAX_STREAMS}`;
  const openStarted = performance.now();
  const BATCH = 250;
  while (held.length < MAX_STREAMS) {
    if (Date.now() > deadline) {
      stopReason = 'time limit';
      break;
    }
    const batch = Math.min(BATCH, MAX_STREAMS - held.length);
    const results = await Promise.allSettled(
      Array.from(
        { length: batch },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const run = runs[(held.length + i) % runs.length] as { id: string };
            held.push(holdStream(emu, run.id, resolve, reject));
          }),
      ),
    );
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) {
      stopReason = `failed: ${String((failure as PromiseRejectedResult).reason)}`;
      break;
    }
  }
  const openSeconds = (performance.now() - openStarted) / 1000;
  const counters = await emu.admin.counters();
  const loaded = (await emu.admin.health()).memory;
  const keepalivesBefore = held.reduce((n, h) => n + h.keepalives, 0);
  const holdStart = performance.now();
  await new Promise((r) => setTimeout(r, HOLD_MS));
  const keepalivesDuring = held.reduce((n, h) => n + h.keepalives, 0) - keepalivesBefore;
  const starved = held.filter((h) => h.keepalives === 0).length;
  const holdSeconds = (performance.now() - holdStart) / 1000;
  const fanStart = performance.now();
  for (const run of runs) await api(emu, 'POST', `/v1/runs/${run.id}/resume`, { action: 'approve' });
  await waitUntil('fan-out to finish', async () => held.every((h) => h.ended), 60000);
  const fanSeconds = (performance.now() - fanStart) / 1000;
  const fanEvents = held.reduce((n, h) => n + h.events, 0);
  for (const h of held) h.req.destroy();
  return {
    open_streams: counters.open_streams,
    stop_reason: stopReason,
    open_seconds: round(openSeconds, 2),
    rss_before_mb: round(base.rss / 1e6, 1),
    rss_with_streams_mb: round(loaded.rss / 1e6, 1),
    rss_per_stream_kb: round((loaded.rss - base.rss) / 1024 / Math.max(1, counters.open_streams), 2),
    heap_per_stream_kb: round(
      (loaded.heapUsed - base.heapUsed) / 1024 / Math.max(1, counters.open_streams),
      2,
    ),
    keepalive_ms: KEEPALIVE_MS,
    hold_seconds: round(holdSeconds, 2),
    keepalives_received: keepalivesDuring,
    streams_without_keepalive: starved,
    fanout_events_delivered: fanEvents,
    fanout_seconds: round(fanSeconds, 2),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(title: string, rows: Record<string, number | string>): string {
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  return [`${title}`, ...Object.entries(rows).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

async function main(): Promise<void> {
  const deadline = Date.now() + TIME_LIMIT_MS;
  const emu = await startChild();
  try {
    const single = await oneStream(emu);
    console.log(table(`one stream, ${STEPS} steps at pace 0`, single));
    const many = await manyStreams(emu, deadline);
    console.log(table(`open streams (bound ${MAX_STREAMS}), keepalive every ${KEEPALIVE_MS} ms`, many));
    const cpus = os.cpus();
    const result = {
      benchmark: 'emulator-stream',
      date: new Date().toISOString(),
      machine: {
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        cpu_model: cpus[0]?.model ?? 'unknown',
        cpu_count: cpus.length,
        total_mem_gb: round(os.totalmem() / 1024 ** 3, 1),
        node: process.version,
        topology: 'emulator and client in separate processes on 127.0.0.1',
      },
      parameters: { steps: STEPS, max_streams: MAX_STREAMS, hold_ms: HOLD_MS, keepalive_ms: KEEPALIVE_MS },
      one_stream: single,
      open_streams: many,
    };
    const out = join(ROOT, 'bench/results/emulator.json');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await emu.stop();
  }
}

await main();
