// The shape most scenarios share: a stack, N runs started at once, something done to them while
// they run, then every run settled, checked against the truth and its history scanned.
import type { AgentRunInput } from '../../../workflows/agent-run';
import { startScenarioStack, type ChaosContext, type ScenarioStack, type StackOptions } from './context';
import { settleAll, startRuns, type Outcome, type RunShape, type StartedRun } from './runs';
import { emptyRow, type ChaosRow } from './types';
import { scanForLeaks, verifyAgainstTruth } from './verify';

export interface BatchScenario {
  scenario: string;
  stack: StackOptions;
  /** Default ctx.n. */
  n?: number;
  shape: RunShape;
  input?: Partial<AgentRunInput>;
  /** Before the runs start (e.g. set faults). */
  before?(stack: ScenarioStack): Promise<void>;
  /** While the runs run (kills, outages, clearing faults); resolves when done meddling. */
  during?(stack: ScenarioStack, runs: StartedRun[], row: ChaosRow): Promise<void>;
  /** Extra checks on the outcomes, as problems. */
  expect?(row: ChaosRow, outcomes: Outcome[]): void;
  /** How long the runs may take to settle, from their start (default 180 s, long form x3). */
  settleTimeoutMs?: number;
}

export async function runBatchScenario(ctx: ChaosContext, spec: BatchScenario): Promise<ChaosRow> {
  const row = emptyRow(spec.scenario);
  const stack = await startScenarioStack(ctx, spec.stack);
  await spec.before?.(stack);
  const started = Date.now();
  const runs = await startRuns(stack, {
    n: spec.n ?? ctx.n,
    prefix: 'run',
    shape: spec.shape,
    input: spec.input,
  });
  const timeoutMs = (spec.settleTimeoutMs ?? 180_000) * (ctx.long ? 3 : 1);
  // Settling starts at once, so a meddler that throws still leaves the runs accounted for.
  const settling = settleAll(stack, runs, timeoutMs);
  try {
    await spec.during?.(stack, runs, row);
  } catch (error) {
    row.problems.push(`the scenario's fault injection failed: ${(error as Error).message}`);
  } finally {
    // A meddler that failed half-way may leave runs held in the emulator: let them finish.
    await stack.emulator.admin.release().catch(() => undefined);
  }
  const outcomes = await settling;
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  await stack.emulator.admin.clearFaults();
  await verifyAgainstTruth(stack, row, { runs, outcomes });
  spec.expect?.(row, outcomes);
  await scanForLeaks(
    stack,
    row,
    runs.map((run) => run.workflowId),
  );
  ctx.log(
    `${row.scenario}: ${row.completed} completed, ${row.typedErrors} typed errors, ${row.lost} lost, ` +
      `${row.duplicated} duplicated, ${row.reconnects} reconnects, ${row.retries} retries, ${row.seconds} s`,
  );
  return row;
}
