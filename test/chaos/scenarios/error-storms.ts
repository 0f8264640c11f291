// Scenario 4: 429 and 503 storms with Retry-After on create and on the stream (and the stream cut
// now and then, so that reconnects meet the storm too), plus creates whose answer is lost after the
// run was made. Creates are retried by Temporal no sooner than Retry-After and never create a second
// run (the idempotency key); the stream rides out the storm by reconnecting.
import type { ChaosContext } from '../lib/context';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';

export function errorStorms(ctx: ChaosContext): Promise<ChaosRow> {
  return runBatchScenario(ctx, {
    scenario: '429/503 storms + lost responses',
    stack: {
      label: 'storms',
      emulator: {
        faults: {
          seed: 11,
          errors: [
            { status: 429, rate: 0.2, retryAfterSeconds: 1, endpoints: ['create', 'stream'] },
            { status: 503, rate: 0.2, retryAfterSeconds: 1, endpoints: ['create', 'stream'] },
          ],
          lostResponses: { rate: 0.15, endpoints: ['create'] },
          stream: { dropAfterEvents: 12 },
        },
      },
    },
    shape: { steps: 30, paceMs: 3 },
    expect(row) {
      if (row.faults < row.runs)
        row.problems.push(`only ${row.faults} faults for ${row.runs} runs: no storm`);
    },
  });
}
