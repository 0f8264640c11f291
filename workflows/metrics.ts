// Our metrics, recorded from workflow code through the SDK's metric meter: nothing is recorded while a
// history replays, so a worker restart or a cache eviction never counts a run, a step or a cent twice.
// They reach the worker's Prometheus endpoint beside the SDK's own (`--metrics-port`), with the SDK's
// labels (namespace, taskQueue, workflowType) and ours, all bounded: never a run id or a task.
import { metricMeter } from '@temporalio/workflow';
import type { RunSummary, StreamCursor } from '../activities/types';
import { METRIC_NAMES } from './names';

export type DecisionKind = 'approve' | 'reject' | 'timeout';

/** What one agentRun has counted so far: each new summary or cursor adds only what is new. */
export class RunMeter {
  private steps = 0;
  private costCents = 0;
  private reconnects = 0;
  private retries = 0;

  created(): void {
    metricMeter.createCounter(METRIC_NAMES.runsCreated, 'runs', 'Runs created on the runs API').add(1);
  }

  /** Counts the steps, cost, reconnects and retries that `summary` and `cursor` add. */
  progress(summary: RunSummary, cursor?: StreamCursor): void {
    this.steps = this.add(METRIC_NAMES.stepsBilled, 'steps', 'Agent steps billed', this.steps, summary.steps);
    this.costCents = this.add(
      METRIC_NAMES.costCents,
      'cents',
      'Cost billed, in US cents',
      this.costCents,
      summary.costCents,
    );
    if (!cursor) return;
    this.reconnects = this.add(
      METRIC_NAMES.streamReconnects,
      'reconnects',
      'Event stream reconnects inside an activity attempt',
      this.reconnects,
      cursor.reconnects,
    );
    this.retries = this.add(
      METRIC_NAMES.streamRetries,
      'retries',
      'Stream activity attempts that ended in a retry',
      this.retries,
      cursor.retries,
    );
  }

  finished(status: string): void {
    metricMeter
      .createCounter(METRIC_NAMES.runsFinished, 'runs', 'Runs finished, by status')
      .add(1, { status });
  }

  private add(name: string, unit: string, description: string, counted: number, now: number): number {
    if (now > counted) metricMeter.createCounter(name, unit, description).add(now - counted);
    return Math.max(counted, now);
  }
}

/** One answered pause: how long it waited for a person, and how it was decided. */
export function recordDecision(kind: DecisionKind, waitedMs: number): void {
  metricMeter
    .createHistogram(METRIC_NAMES.approvalWait, 'float', 's', 'How long a pause waited for its decision')
    .record(Math.max(0, waitedMs) / 1000, { decision: kind });
  metricMeter.createCounter(METRIC_NAMES.decisions, 'decisions', 'Pauses answered, by decision').add(1, {
    decision: kind,
  });
}

export function recordBudgetWait(): void {
  metricMeter
    .createCounter(METRIC_NAMES.budgetWaits, 'waits', 'Times a process waited for a larger budget')
    .add(1);
}
