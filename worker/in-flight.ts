// Runs in flight by status, and how long the oldest one has waited for a person: gauges of the SDK's
// runtime meter (the worker's Prometheus endpoint), read from Temporal's visibility every few seconds.
// Counters of starts and ends cannot say it: a worker's counters restart with it, so after a deploy
// their difference is off by every run that was in flight. Visibility knows each open run and its
// CoastyStatus; a pause's start comes from the run's progress query, once per pause.
import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { METRIC_NAMES, WORKFLOW_TYPE_NAMES } from '../workflows/names';
import { progressQuery, type AgentRunProgress } from '../workflows/messages';

export const IN_FLIGHT_INTERVAL_MS = 10_000;
export const IN_FLIGHT_INTERVAL_VARIABLE = 'COASTY_IN_FLIGHT_INTERVAL_MS';
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

/**
 * How often the gauges are read: `given` (the plugin's option), else COASTY_IN_FLIGHT_INTERVAL_MS,
 * else every 10 s. Each read is a count and a list query to visibility. Throws a clear error for a
 * value that is not a whole number of ms from 100 to an hour.
 */
export function inFlightIntervalOf(given: number | undefined, env: NodeJS.ProcessEnv): number {
  const raw = given === undefined ? env[IN_FLIGHT_INTERVAL_VARIABLE]?.trim() : String(given);
  if (!raw) return IN_FLIGHT_INTERVAL_MS;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    const where = given === undefined ? IN_FLIGHT_INTERVAL_VARIABLE : 'inFlightMetrics.intervalMs';
    throw new Error(
      `${where} must be a whole number of milliseconds from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} (an hour), got "${raw}"`,
    );
  }
  return ms;
}

export interface InFlightOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  intervalMs?: number;
  /** Where a failed read is told (the gauges keep their last values). */
  warn?: (message: string) => void;
}

/** Reads and sets the gauges now and every `intervalMs` until stopped (a read under way is cut short). */
export function startInFlightMetrics(options: InFlightOptions): { stop(): Promise<void> } {
  const { client, intervalMs = IN_FLIGHT_INTERVAL_MS, warn = () => undefined } = options;
  const reader = new InFlightReader(options);
  const stopping = new AbortController();
  let reading: Promise<void> | undefined;
  const read = () => {
    // A read slower than the interval is not doubled: the next tick after it starts the next.
    if (reading || stopping.signal.aborted) return;
    reading = client
      .withAbortSignal(stopping.signal, () => reader.read())
      .catch((error: Error) => {
        if (!stopping.signal.aborted) warn(`runs in flight unread: ${error.message}`);
      })
      .finally(() => (reading = undefined));
  };
  read();
  const timer = setInterval(read, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopping.abort();
      clearInterval(timer);
      await reading;
    },
  };
}

const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class InFlightReader {
  private readonly runs: string;
  /** When each waiting run's pause began (ms), by workflow id and run id. */
  private readonly pauseStarts = new Map<string, number>();
  private readonly inFlight = Runtime.instance().metricMeter.createGauge(
    METRIC_NAMES.runsInFlight,
    'int',
    'runs',
    'Runs in flight, by status: running (creating, queued, running) or awaiting_human',
  );
  private readonly oldestWait = Runtime.instance().metricMeter.createGauge(
    METRIC_NAMES.oldestApprovalWait,
    'float',
    's',
    'How long the run waiting longest for a person has waited (0: none waits)',
  );

  constructor(private readonly options: InFlightOptions) {
    const types = [WORKFLOW_TYPE_NAMES.agentRun, WORKFLOW_TYPE_NAMES.batchItem].map(quote).join(', ');
    this.runs = `WorkflowType IN (${types}) AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(options.taskQueue)}`;
  }

  async read(): Promise<void> {
    const { client, namespace, taskQueue } = this.options;
    const { count: open } = await client.workflow.count(this.runs);
    const waiting = new Set<string>();
    for await (const run of client.workflow.list({
      query: `${this.runs} AND CoastyStatus = 'awaiting_human'`,
    }))
      waiting.add(`${run.workflowId}\n${run.runId}`);
    for (const key of this.pauseStarts.keys()) if (!waiting.has(key)) this.pauseStarts.delete(key);
    for (const key of waiting) if (!this.pauseStarts.has(key)) await this.askPauseStart(key);
    const tags = { namespace, taskQueue };
    this.inFlight.set(Math.max(0, open - waiting.size), { ...tags, status: 'running' });
    this.inFlight.set(waiting.size, { ...tags, status: 'awaiting_human' });
    this.oldestWait.set((Date.now() - (await this.oldestPauseStart())) / 1000, tags);
  }

  /**
   * The oldest known start, asked again until the run confirms it: a run decided and paused again
   * between two reads is still waiting, at a later pause.
   */
  private async oldestPauseStart(): Promise<number> {
    for (let checked = 0; checked < 5; checked++) {
      const oldest = [...this.pauseStarts].sort(([, a], [, b]) => a - b)[0];
      if (!oldest) return Date.now();
      if ((await this.askPauseStart(oldest[0])) === oldest[1]) return oldest[1];
    }
    return Math.min(Date.now(), ...this.pauseStarts.values());
  }

  private async askPauseStart(key: string): Promise<number | undefined> {
    const [workflowId, runId] = key.split('\n') as [string, string];
    const progress = (await this.options.client.workflow
      .getHandle(workflowId, runId)
      .query(progressQuery)
      .catch(() => undefined)) as AgentRunProgress | undefined;
    const since = Date.parse(progress?.awaiting?.since ?? '');
    if (Number.isNaN(since)) this.pauseStarts.delete(key);
    else this.pauseStarts.set(key, since);
    return Number.isNaN(since) ? undefined : since;
  }
}
