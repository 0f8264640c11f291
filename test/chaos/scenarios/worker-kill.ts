// Scenario 1: the worker process is killed with SIGKILL while it follows every run's stream, several
// times; each time a new worker takes over. The stream activity (heartbeat timeout 2 s) is retried
// from its last heartbeated cursor: events it already handled are skipped, none is missed.
import { isTerminalStatus } from '../../../api/types';
import { waitUntil } from '../../helpers/wait';
import type { ChaosContext, ScenarioStack } from '../lib/context';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';
import { listAllRuns } from '../lib/verify';
import type { ChaosWorker } from '../lib/worker';

const STEPS = 30;

/** Waits until most still-active runs have an open stream; false when every run has ended. */
export async function waitForStreams(
  stack: ScenarioStack,
  runs: number,
  timeoutMs: number,
): Promise<boolean> {
  return waitUntil(
    'the worker to follow the runs',
    async () => {
      // Runs not created yet count as active.
      const active = runs - (await listAllRuns(stack)).filter((run) => isTerminalStatus(run.status)).length;
      if (active === 0) return 'done' as const;
      const { open_streams } = await stack.emulator.admin.counters();
      return open_streams >= Math.ceil(active * 0.6) ? ('streaming' as const) : undefined;
    },
    timeoutMs,
    150,
  ).then((state) => state === 'streaming');
}

export function workerKilled(ctx: ChaosContext, kills = ctx.long ? 5 : 3): Promise<ChaosRow> {
  // Each cycle costs a worker start (about 5 s here) and a heartbeat timeout plus a retry (about 3 s):
  // runs last long enough for every kill to land mid-stream. A slow pace costs time, not CPU.
  const paceMs = Math.ceil(((kills + 1) * 7000) / STEPS);
  return runBatchScenario(ctx, {
    scenario: `worker SIGKILLed x${kills}`,
    stack: { label: 'worker-kill' },
    shape: { steps: STEPS, paceMs },
    input: { streamHeartbeatTimeout: '2s' },
    async during(stack, runs, row) {
      let current: ChaosWorker = stack.workers[0]!;
      let done = 0;
      for (let k = 0; k < kills; k++) {
        // Start the replacement while the current worker streams, so the kill costs no start-up time.
        const next = await stack.spawnWorker();
        if (!(await waitForStreams(stack, runs.length, 60_000))) break;
        const before = (await stack.emulator.admin.counters()).open_streams;
        await current.kill();
        done++;
        ctx.log(`kill ${done}: SIGKILL pid ${current.pid} with ${before} streams open`);
        current = next;
      }
      row.notes.push(`${done} SIGKILLs mid-stream, ${stack.workers.length} worker processes`);
      if (done === 0) row.problems.push('no kill landed mid-stream: the runs ended first');
    },
    expect(row) {
      if (row.retries === 0) row.problems.push('no stream retry: the kills did not hit a stream');
    },
  });
}
