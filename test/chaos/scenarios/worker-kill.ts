// Scenario 1: the worker process is killed with SIGKILL while it follows every run's stream, several
// times; each time a new worker takes over. The stream activity (heartbeat timeout 2 s) is retried
// from its last heartbeated cursor: events it already handled are skipped, none is missed.
// Every kill lands mid-stream by construction, however slow the machine: each run is held by the
// emulator before a step ([hold@K]) until every run waits there with its stream open, and only
// after the kill are the runs released.
import type { ChaosContext, ScenarioStack } from '../lib/context';
import type { StartedRun } from '../lib/runs';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';
import type { ChaosWorker } from '../lib/worker';

const STEPS = 30;

/** Steps spread evenly over the run, one per fault, for `[hold@...]`. */
export function holdSteps(faults: number, steps = STEPS): number[] {
  return Array.from({ length: faults }, (_, i) => Math.round(((i + 1) * steps) / (faults + 1)));
}

export function holdDirective(holds: number[]): string {
  return `[hold@${holds.join(',')}]`;
}

/**
 * Waits until every run of the scenario is held at `step` (by default with a stream open on it: a
 * fault now hits every run mid-stream). Bounded by `timeoutMs`; the error says how far the runs got.
 */
export async function waitForHeldStreams(
  stack: ScenarioStack,
  runs: StartedRun[],
  step: number,
  options: { streaming?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const streaming = options.streaming ?? true;
  await stack.emulator.admin.waitForHolds(
    `all ${runs.length} runs held at step ${step}${streaming ? ' with a stream open' : ''}`,
    (held) => held.filter((h) => h.step === step && (!streaming || h.open_streams > 0)).length >= runs.length,
    options.timeoutMs ?? 120_000,
  );
}

export function workerKilled(ctx: ChaosContext, kills = ctx.long ? 5 : 3): Promise<ChaosRow> {
  const holds = holdSteps(kills);
  let done = 0;
  return runBatchScenario(ctx, {
    scenario: `worker SIGKILLed x${kills}`,
    stack: { label: 'worker-kill' },
    shape: { steps: STEPS, paceMs: 5, extra: holdDirective(holds) },
    input: { streamHeartbeatTimeout: '2s' },
    async during(stack, runs, row) {
      let current: ChaosWorker = stack.workers[0]!;
      for (const step of holds) {
        // Every run held with its stream open on the only live worker; the replacement starts only
        // now, so it has nothing to poll until the kill (started earlier, it would take some runs'
        // retried attempts of the previous kill, and this kill would miss those runs).
        await waitForHeldStreams(stack, runs, step);
        const next = await stack.spawnWorker();
        const before = (await stack.emulator.admin.counters()).open_streams;
        await current.kill();
        done++;
        ctx.log(
          `kill ${done}: SIGKILL pid ${current.pid} with ${before} streams open (runs held at step ${step})`,
        );
        await stack.emulator.admin.release();
        current = next;
      }
      row.notes.push(`${done} SIGKILLs mid-stream, ${stack.workers.length} worker processes`);
    },
    expect(row) {
      // Each kill cut every run's open stream: each costs every run one retried attempt.
      if (row.retries < done * row.runs) {
        row.problems.push(`${row.retries} stream retries for ${done} kills of ${row.runs} streams each`);
      }
    },
  });
}
