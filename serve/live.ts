// Live pages: one poller per topic (the inbox, or one process) reads Temporal while someone follows
// it, and tells every follower when what it shows has changed. Followers get Server-Sent Events
// (`event: changed`); the page's script then fetches itself again and swaps what changed.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

type Listener<T> = (value: T, version: number) => void;

export class LiveTopic<T> {
  private readonly listeners = new Set<Listener<T>>();
  private running = false;
  private hash = '';
  private version = 0;
  private latest: T | undefined;
  private holds = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(
    private readonly read: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly onIdle: () => void = () => undefined,
  ) {}

  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    this.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Keeps polling without followers (the notifier) until the returned function is called. */
  hold(): () => void {
    this.holds += 1;
    this.start();
    return () => {
      this.holds -= 1;
    };
  }

  get current(): { value: T; version: number } | undefined {
    return this.latest === undefined ? undefined : { value: this.latest, version: this.version };
  }

  /** Stops polling and waits for a read in flight, so nothing touches Temporal after it resolves. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loopDone;
  }

  private wanted(): boolean {
    return !this.stopping.signal.aborted && (this.listeners.size > 0 || this.holds > 0);
  }

  private start(): void {
    if (this.running || this.stopping.signal.aborted) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.wanted()) {
      try {
        const value = await this.read();
        const hash = createHash('sha256').update(JSON.stringify(value)).digest('hex');
        if (hash !== this.hash) {
          this.hash = hash;
          this.version += 1;
          this.latest = value;
          for (const listener of [...this.listeners]) listener(value, this.version);
        }
      } catch (error) {
        this.onError(error);
      }
      if (!this.wanted()) break;
      await sleep(this.intervalMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
    this.running = false;
    if (!this.stopping.signal.aborted && this.listeners.size === 0 && this.holds === 0) this.onIdle();
  }
}

const KEEPALIVE_MS = 15_000;

/** Follows a topic as an SSE response until the client goes away (or serve stops). */
export function streamChanges<T>(res: ServerResponse, topic: LiveTopic<T>, closing: AbortSignal): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  // Jittered, so that a restart of serve does not bring every page back at the same instant.
  res.write(`retry: ${2000 + Math.floor(Math.random() * 1000)}\n\n`);
  const send = (version: number) =>
    res.write(`id: ${version}\nevent: changed\ndata: {"version":${version}}\n\n`);
  const current = topic.current;
  if (current) send(current.version);
  const unsubscribe = topic.subscribe((_value, version) => send(version));
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  const end = () => {
    clearInterval(keepalive);
    unsubscribe();
    closing.removeEventListener('abort', end);
    if (!res.writableEnded) res.end();
  };
  res.on('close', end);
  closing.addEventListener('abort', end);
  if (closing.aborted) end();
}
