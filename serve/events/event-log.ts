// One log per followed process, shared by all its followers: the process's events (process-events.ts)
// read once, in order, each with an id `<position>-<check>` that is also the cursor. The check is a
// hash of the process's first execution, the position and the event's source, so an id from another
// process, another execution of the same id or another order is refused, never misread.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { firstRunIdOf, processEvents, type EventSources, type ProcessEvent } from './process-events';

export type LoggedEvent = ProcessEvent & { id: string };

/** Logs kept at most (followed ones are never dropped), and how long one nobody follows stays. */
const MAX_LOGS = 100;
const IDLE_MS = 5 * 60_000;

export class EventLogProblem extends Error {
  override name = 'EventLogProblem';
}

export class ProcessEventLog {
  readonly events: LoggedEvent[] = [];
  done = false;
  failed: unknown;
  followers = 0;
  lastUsed = Date.now();
  private readonly stopping = new AbortController();
  private wake: Array<() => void> = [];
  readonly reading: Promise<void>;

  constructor(
    sources: EventSources,
    readonly workflowId: string,
    readonly firstRunId: string,
  ) {
    // Each history long poll and run stream of the reader listens for its stop.
    setMaxListeners(0, this.stopping.signal);
    this.reading = this.fill(sources);
  }

  /** The position right after the event with this id (0 for none); refuses an id this log never had. */
  async positionAfter(id: string, signal: AbortSignal): Promise<number> {
    const match = /^(\d{1,9})-([0-9a-f]{8})$/.exec(id);
    if (!match)
      throw new EventLogProblem(`"${id}" is not an event id of this stream (expected <number>-<8 hex>)`);
    const position = Number(match[1]);
    while (this.events.length < position && !this.done && this.failed === undefined)
      await this.changed(signal, 15_000);
    if (this.events[position - 1]?.id !== id) {
      throw new EventLogProblem(`no event "${id}" in the stream of process ${this.workflowId}`);
    }
    return position;
  }

  /** Resolves when an event is added, the log ends, `signal` aborts or `ms` pass. */
  changed(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = this.wake.filter((wake) => wake !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake.push(done);
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.reading;
  }

  private async fill(sources: EventSources): Promise<void> {
    try {
      for await (const { event, source } of processEvents(
        sources,
        this.workflowId,
        this.firstRunId,
        this.stopping.signal,
      )) {
        const position = this.events.length + 1;
        const check = createHash('sha256')
          .update([this.workflowId, this.firstRunId, position, event.type, source].join('\n'))
          .digest('hex')
          .slice(0, 8);
        this.events.push({ id: `${position}-${check}`, ...event });
        this.notify();
      }
      this.done = true;
    } catch (error) {
      if (!this.stopping.signal.aborted) this.failed = error;
    }
    this.notify();
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const wake of waiting) wake();
  }
}

/** The logs of the processes being followed, one per process and execution. */
export class ProcessEventLogs {
  private readonly logs = new Map<string, ProcessEventLog>();

  constructor(private readonly sources: EventSources) {}

  /** The log of the process's current execution; throws the client's not-found error for an unknown id. */
  async open(workflowId: string): Promise<ProcessEventLog> {
    const firstRunId = await firstRunIdOf(this.sources.client, workflowId);
    let log = this.logs.get(workflowId);
    if (log && (log.firstRunId !== firstRunId || log.failed !== undefined)) {
      this.logs.delete(workflowId);
      void log.stop();
      log = undefined;
    }
    if (!log) {
      this.evict();
      log = new ProcessEventLog(this.sources, workflowId, firstRunId);
      this.logs.set(workflowId, log);
    }
    log.lastUsed = Date.now();
    return log;
  }

  async close(): Promise<void> {
    const logs = [...this.logs.values()];
    this.logs.clear();
    await Promise.all(logs.map((log) => log.stop()));
  }

  private evict(): void {
    const now = Date.now();
    for (const [id, log] of this.logs) {
      const idle = log.followers === 0 && now - log.lastUsed > IDLE_MS;
      if (idle || (this.logs.size >= MAX_LOGS && log.followers === 0)) {
        this.logs.delete(id);
        void log.stop();
      }
    }
  }
}
