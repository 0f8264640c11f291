// Scenario 3: the emulator cuts every run's stream after every k events (and resends a few on
// resume), or at random. A drop must cost a reconnect inside the attempt, never an activity retry.
import type { ChaosContext } from '../lib/context';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';

const SHAPE = { steps: 40, paceMs: 3 };

function expectReconnectsNotRetries(row: ChaosRow): void {
  if (row.reconnects < row.completed) {
    row.problems.push(
      `only ${row.reconnects} reconnects for ${row.completed} runs: the drops did not happen`,
    );
  }
  if (row.retries !== 0)
    row.problems.push(`${row.retries} stream retries: a drop must cost a reconnect, not a retry`);
}

export function streamDropsEveryK(ctx: ChaosContext, k = 7): Promise<ChaosRow> {
  return runBatchScenario(ctx, {
    scenario: `stream dropped every ${k} events`,
    stack: { label: 'drop-k', emulator: { faults: { stream: { dropAfterEvents: k, resendOnResume: 3 } } } },
    shape: SHAPE,
    expect: expectReconnectsNotRetries,
  });
}

export function streamDropsAtRandom(ctx: ChaosContext, probability = 0.08): Promise<ChaosRow> {
  return runBatchScenario(ctx, {
    scenario: `stream dropped at random (p=${probability})`,
    stack: {
      label: 'drop-random',
      emulator: { faults: { seed: 7, stream: { dropProbability: probability, resendOnResume: 2 } } },
    },
    shape: SHAPE,
    expect: expectReconnectsNotRetries,
  });
}
