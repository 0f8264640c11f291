// The SSE side: open streams, batched writes with back-pressure, one shared keepalive timer.
// A connection costs one small object plus its socket; events are stored once per run.
import type { ServerResponse } from 'node:http';
import type { EmulatorConfig, MalformedMode } from './config';
import type { CounterState } from './counters';
import type { RunRecord, StoredEvent } from './engine';
import type { FaultInjector } from './faults';
import { createPrng, hashSeed, type Prng } from './prng';

interface StreamSub {
  res: ServerResponse;
  rec: RunRecord;
  key: string;
  next: number;
  written: number;
  prefix: string;
  waitingDrain: boolean;
  closed: boolean;
  malformed: MalformedMode | null;
  oddBlockSent: boolean;
}

export interface OpenStreamOptions {
  key: string;
  startIndex: number;
  malformed: MalformedMode | null;
}

const MAX_CHUNK_CHARS = 64 * 1024;
const KEEPALIVE = ': keepalive\n\n';
const GARBAGE = 'this line has no colon\nx-unknown-field: ignored\n:comment without a space\nretry: soon\n\n';
const NON_JSON = 'data: <p>this is not JSON</p>\n\n';
const HUGE_EVENT_BYTES = 2 * 1024 * 1024;

export const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n';

export function sseFrame(event: StoredEvent): string {
  return `id: ${event.id}\ndata: ${event.json}\n\n`;
}

export class StreamHub {
  private readonly all = new Set<StreamSub>();
  private readonly perKey = new Map<string, number>();
  private readonly dirty = new Set<RunRecord>();
  private flushImmediate: NodeJS.Immediate | null = null;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private readonly retryPrng: Prng;

  constructor(
    private readonly config: EmulatorConfig,
    private readonly counters: CounterState,
    private readonly faults: FaultInjector,
  ) {
    this.retryPrng = createPrng(hashSeed(config.seed, 'retry'));
    this.keepaliveTimer = setInterval(() => this.keepalive(), config.stream.keepaliveMs);
    this.keepaliveTimer.unref();
  }

  openCount(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  get size(): number {
    return this.all.size;
  }

  open(res: ServerResponse, rec: RunRecord, options: OpenStreamOptions): void {
    const contentType =
      options.malformed === 'wrong_content_type' ? 'text/plain; charset=utf-8' : 'text/event-stream';
    res.writeHead(200, {
      'Content-Type': contentType,
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const { retryMs, retryJitterMs } = this.config.stream;
    let prefix = `retry: ${retryMs + this.retryPrng.int(0, retryJitterMs)}\n\n`;
    if (options.malformed === 'huge_event') prefix += hugeEventBlock(rec.run.id);
    const sub: StreamSub = {
      res,
      rec,
      key: options.key,
      next: options.startIndex,
      written: 0,
      prefix,
      waitingDrain: false,
      closed: false,
      malformed: options.malformed,
      oddBlockSent: false,
    };
    this.all.add(sub);
    (rec.streams as Set<StreamSub>).add(sub);
    this.perKey.set(options.key, this.openCount(options.key) + 1);
    this.counters.open_streams++;
    this.counters.max_open_streams = Math.max(this.counters.max_open_streams, this.counters.open_streams);
    res.on('close', () => this.detach(sub));
    this.flush(sub);
  }

  notify(rec: RunRecord): void {
    if (rec.streams.size === 0) return;
    this.dirty.add(rec);
    this.flushImmediate ??= setImmediate(() => {
      this.flushImmediate = null;
      const recs = [...this.dirty];
      this.dirty.clear();
      for (const r of recs) for (const sub of r.streams as Set<StreamSub>) this.flush(sub);
    });
  }

  /** Cuts every open stream whose API key is no longer accepted (a revoked key loses its streams). */
  closeRefused(accepted: ReadonlySet<string>): number {
    const refused = [...this.all].filter((sub) => !accepted.has(sub.key));
    for (const sub of refused) this.cut(sub);
    return refused.length;
  }

  closeAll(): void {
    for (const sub of [...this.all]) this.cut(sub);
  }

  private cut(sub: StreamSub): void {
    sub.closed = true;
    sub.res.destroy();
    this.detach(sub);
  }

  stop(): void {
    clearInterval(this.keepaliveTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
    this.closeAll();
  }

  // Writes everything ready in as few res.write calls as possible, stopping on back-pressure,
  // at the terminal event (end of response) or where a fault drops the connection.
  private flush(sub: StreamSub): void {
    const events = sub.rec.events;
    while (!sub.closed && !sub.waitingDrain) {
      let chunk = sub.prefix;
      sub.prefix = '';
      let ended = false;
      let dropped = false;
      while (sub.next < events.length && chunk.length < MAX_CHUNK_CHARS) {
        const event = events[sub.next] as StoredEvent;
        chunk += this.frame(sub, event);
        sub.next++;
        sub.written++;
        if (event.terminal) {
          ended = true;
          break;
        }
        if (this.faults.shouldDrop(sub.written)) {
          dropped = true;
          break;
        }
      }
      if (chunk === '') return;
      this.counters.stream_writes++;
      if (ended) {
        sub.closed = true;
        sub.res.end(chunk);
        return;
      }
      if (dropped) {
        sub.closed = true;
        this.counters.streams_dropped++;
        sub.res.write(chunk, () => sub.res.destroy());
        return;
      }
      if (!sub.res.write(chunk)) this.waitForDrain(sub);
    }
  }

  private frame(sub: StreamSub, event: StoredEvent): string {
    switch (sub.malformed) {
      case 'missing_ids':
        return `data: ${event.json}\n\n`;
      case 'garbage_lines':
        return GARBAGE + sseFrame(event);
      case 'non_json_data':
        if (sub.oddBlockSent) return sseFrame(event);
        sub.oddBlockSent = true;
        return sseFrame(event) + NON_JSON;
      default:
        return sseFrame(event);
    }
  }

  private waitForDrain(sub: StreamSub): void {
    if (sub.res.destroyed) return;
    sub.waitingDrain = true;
    this.counters.stream_backpressure_waits++;
    sub.res.once('drain', () => {
      sub.waitingDrain = false;
      this.flush(sub);
    });
  }

  private keepalive(): void {
    for (const sub of this.all) {
      if (sub.closed || sub.waitingDrain) continue;
      this.counters.keepalives_sent++;
      if (!sub.res.write(KEEPALIVE)) this.waitForDrain(sub);
    }
  }

  private detach(sub: StreamSub): void {
    if (!this.all.delete(sub)) return;
    sub.closed = true;
    (sub.rec.streams as Set<StreamSub>).delete(sub);
    const left = this.openCount(sub.key) - 1;
    if (left > 0) this.perKey.set(sub.key, left);
    else this.perKey.delete(sub.key);
    this.counters.open_streams--;
  }
}

function hugeEventBlock(runId: string): string {
  const head = `data: {"type":"padding","run_id":${JSON.stringify(runId)},"padding":"`;
  const tail = '"}\n\n';
  return head + 'x'.repeat(HUGE_EVENT_BYTES - head.length - tail.length) + tail;
}
