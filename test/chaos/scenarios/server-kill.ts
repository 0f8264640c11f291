// Scenario 2: the Temporal dev server itself is killed with SIGKILL mid-run and restarted on the same
// --db-filename and the same port. Workflows, timers and heartbeats come back from SQLite; the worker
// (a child process) must reconnect by itself: if it died instead, a new one is started and the row
// says so. This scenario starts its own dev server, never the shared one.
// The kill lands mid-stream by construction: every run is held ([hold@K]) with its stream open before
// the server dies; the runs are released into the outage and held again further on, so the worker
// handles events while Temporal is away; the server comes back once every run got there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../../dev/dev-server';
import { isAlive } from '../../../dev/temporal-cli';
import { waitUntil } from '../../helpers/wait';
import type { ChaosContext } from '../lib/context';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';
import { holdDirective, holdSteps, waitForHeldStreams } from './worker-kill';

const STEPS = 30;

async function restartOnSamePort(dbFilename: string, port: number): Promise<DevServer> {
  let lastError: unknown;
  // The port was ours a moment ago; give the kernel a few tries if it is slow to release it.
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      return await startDevServer({ dbFilename, port, startTimeoutMs: 60_000 });
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`the dev server did not come back on port ${port}: ${(lastError as Error).message}`);
}

export async function serverKilled(ctx: ChaosContext): Promise<ChaosRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coasty-chaos-server-'));
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const dbFilename = join(dir, 'temporal.db');
  const first = await startDevServer({ dbFilename });
  let current = first;
  ctx.defer(() => current.stop());
  const port = Number(first.address.split(':').pop());

  const [killAt, backAt] = holdSteps(2, STEPS) as [number, number];
  return runBatchScenario(ctx, {
    scenario: 'Temporal server SIGKILLed + restarted',
    stack: { label: 'server-kill', temporalAddress: first.address },
    shape: { steps: STEPS, paceMs: 5, extra: holdDirective([killAt, backAt]) },
    async during(stack, runs, row) {
      await waitForHeldStreams(stack, runs, killAt);
      const worker = stack.workers[0]!;
      process.kill(first.pid, 'SIGKILL');
      const killedAt = Date.now();
      await waitUntil('the killed server to be gone', () => !isAlive(first.pid), 10_000, 50);
      // Stay down while the runs make progress: the worker goes on streaming without Temporal, and
      // what it handles in the outage must still be counted once.
      await stack.emulator.admin.release();
      // (The worker may die in the outage: then no stream is open, and the runs get there anyway.)
      await waitForHeldStreams(stack, runs, backAt, { streaming: false });
      ctx.log(`SIGKILL Temporal server pid ${first.pid}; restarting it on port ${port}`);
      current = await restartOnSamePort(dbFilename, port);
      const outage = (Date.now() - killedAt) / 1000;
      ctx.log(`Temporal server back after ${outage.toFixed(1)} s (pid ${current.pid})`);
      row.notes.push(`server down ${outage.toFixed(1)} s; same port ${port} and SQLite file`);
      if (worker.alive()) {
        row.notes.push(`the worker (pid ${worker.pid}) survived the outage and reconnected by itself`);
      } else {
        row.notes.push(`the worker died in the outage (exit ${await worker.exited}); a new one was started`);
        await stack.spawnWorker();
      }
      await stack.emulator.admin.release();
    },
  });
}
