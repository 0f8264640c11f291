// The activities of the fleet benchmark's baselines (bench/workflows/fleet-baselines.ts), registered
// on a plain SDK worker (bench/worker-main.ts --plain). They use the project's RunsClient for HTTP
// (one keep-alive pool, typed errors): a baseline that paid more per request than ours would flatter us.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { request } from 'undici';
import type { RunsClient } from '../api/runs-client';
import { isTerminalStatus } from '../api/types';
import type { FleetActivities } from './workflows/fleet-baselines';

/** The polling baseline reads the run this often: the agent's pace, as most people would choose. */
export const POLL_EVERY_MS = 2000;

/**
 * Where in the 2 s a run's polls fall, drawn from its key (0..2 s). The emulator's agent steps exactly
 * every 2 s from the run's start, and a poll loop started at creation would read just after each
 * step, in phase for the whole run: it would see every pause within milliseconds, which a real
 * agent's uneven steps never allow. The offset puts each run's polls at an arbitrary phase instead.
 */
export function pollPhaseMs(key: string): number {
  const digest = createHash('sha256').update(key).digest();
  return digest.readUInt32BE(0) % POLL_EVERY_MS;
}

export function createFleetActivities(client: RunsClient, listenerUrl: string | undefined): FleetActivities {
  return {
    async fleetPollRun({ request: body, idempotencyKey, runId, resume, pause }) {
      const ctx = Context.current();
      const id = runId ?? (await client.createRun(body, { idempotencyKey })).id;
      if (!runId) await ctx.sleep(pollPhaseMs(idempotencyKey));
      if (resume)
        await client.resumeRun(id, { action: resume }, { idempotencyKey: `${idempotencyKey}/${pause}` });
      for (;;) {
        const run = await client.getRun(id);
        ctx.heartbeat(run.steps);
        if (isTerminalStatus(run.status) || run.status === 'awaiting_human')
          return { runId: id, status: run.status, steps: run.steps };
        await ctx.sleep(POLL_EVERY_MS);
      }
    },

    async fleetCreateListenedRun({ request: body, idempotencyKey, workflowId }) {
      if (!listenerUrl) throw new Error('FLEET_LISTENER_URL is not set: no listener to hand the run to');
      const run = await client.createRun(body, { idempotencyKey });
      const res = await request(listenerUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ runId: run.id, workflowId }),
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`the listener answered ${res.statusCode}`);
      return run.id;
    },

    async fleetResumeRun({ runId, action, idempotencyKey }) {
      await client.resumeRun(runId, { action }, { idempotencyKey });
    },
  };
}
