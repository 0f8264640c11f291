// Scenario: webhook delivery through every fault at-least-once delivery brings. N runs with
// `delivery: webhook`, each held by the emulator at three steps; at each hold, with every run
// waiting there (so each fault lands mid-run however slow the machine is):
//   1. the receiver is down (503 to every delivery, past the API's retries for some);
//   2. it is up again; every delivery so far is sent again newest first (duplicates, out of order),
//      forged ones are sent (wrong secret, old signature, altered body), the receiver is restarted
//      (its memory of event ids gone) and the worker is SIGKILLed and replaced;
//   3. every delivery is sent again to the restarted receiver.
// Every run must complete with the API's steps and status, nothing created or billed twice, no
// state change counted twice, every forgery refused.
import { signWebhook } from '../../../emulator';
import { startWebhookServer, type RunningWebhookServer } from '../../../serve/webhooks/server';
import { waitUntil } from '../../helpers/wait';
import { Switchboard } from '../../webhooks/switchboard';
import type { ChaosContext, ScenarioStack } from '../lib/context';
import { runBatchScenario } from '../lib/scenario';
import type { ChaosRow } from '../lib/types';
import { holdDirective, holdSteps, waitForHeldStreams } from './worker-kill';

const STEPS = 30;
const FAST_DELIVERY = { backoffBaseMs: 50, backoffMaxMs: 400, maxAttempts: 5, timeoutMs: 5000 };

export function webhookFaults(ctx: ChaosContext): Promise<ChaosRow> {
  const holds = holdSteps(3, STEPS);
  let receiver: RunningWebhookServer | undefined;
  let board: Switchboard | undefined;
  let forged = 0;
  let refusedBefore = 0;
  const start = (stack: ScenarioStack) =>
    startWebhookServer({ client: stack.client, secret: stack.emulator.webhookSecret, port: 0 });
  const refusedNow = () => Object.values(receiver!.receiver.counts.refused).reduce((sum, n) => sum + n, 0);

  return runBatchScenario(ctx, {
    scenario: 'webhooks: down, duplicated, forged, receiver restarted, worker killed',
    stack: { label: 'webhooks', worker: false, emulator: { webhooks: FAST_DELIVERY } },
    shape: { steps: STEPS, paceMs: 5, extra: holdDirective(holds) },
    // A delivery the API gave up on is made up by a read within seconds.
    input: { delivery: 'webhook', reconcileEvery: '2s' },
    async before(stack) {
      receiver = await start(stack);
      board = new Switchboard(receiver.url);
      await board.start();
      ctx.defer(() => board!.stop());
      ctx.defer(() => receiver!.stop());
      await stack.spawnWorker({ env: webhookEnv(stack, board.url) });
    },
    async during(stack, runs, row) {
      const all = () => [...board!.recorded].reverse();
      const held = (step: number) => waitForHeldStreams(stack, runs, step, { streaming: false });

      await held(holds[0]!);
      board!.down = true;
      await stack.emulator.admin.release();

      await held(holds[1]!);
      board!.down = false;
      // Each run's deliveries go in order, each state change answered after its signal: on a busy
      // machine a run can be held here before its `running` event reached the hop.
      const sample = await waitUntil('a running event delivered to the hop', () =>
        board!.recorded.find((d) => d.body.includes('"type":"running"')),
      );
      for (const delivery of all()) await board!.replay(delivery);
      const now = Math.floor(Date.now() / 1000);
      refusedBefore = refusedNow();
      const forgeries = [
        board!.replay(sample, { 'coasty-signature': signWebhook('whsec_attacker', now, sample.body) }),
        board!.replay(sample, {
          'coasty-signature': signWebhook(stack.emulator.webhookSecret, now - 3600, sample.body),
        }),
        board!.replay({ ...sample, body: sample.body.replace('"running"', '"succeeded"') }),
      ];
      forged = forgeries.length;
      const statuses = await Promise.all(forgeries);
      const accepted = statuses.filter((status) => status < 400).length;
      if (accepted) row.problems.push(`${accepted} forged deliveries were accepted`);
      if (refusedNow() - refusedBefore !== forged)
        row.problems.push(`${refusedNow() - refusedBefore} refusals counted for ${forged} forgeries`);
      await receiver!.stop();
      receiver = await start(stack);
      board!.target = receiver.url;
      const [worker] = stack.workers.filter((w) => w.alive());
      const next = await stack.spawnWorker({ env: webhookEnv(stack, board!.url) });
      await worker?.kill();
      await stack.emulator.admin.release();

      await held(holds[2]!);
      for (const delivery of all()) await board!.replay(delivery);
      await stack.emulator.admin.release();
      row.notes.push(
        `${board!.recorded.length} deliveries, ${forged} forged, receiver restarted, worker pid ${worker?.pid} killed for ${next.pid}`,
      );
    },
  });
}

function webhookEnv(stack: ScenarioStack, url: string): NodeJS.ProcessEnv {
  return { COASTY_WEBHOOK_URL: url, COASTY_WEBHOOK_SECRET: stack.emulator.webhookSecret };
}
