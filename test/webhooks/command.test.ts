// `coasty-temporal webhooks`: the receiver as its own process, in front of a real worker's runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRun } from '../../workflows/agent-run';
import { cliEnv, runCli, spawnCli } from '../cli/helpers';
import { startStack, type TestStack } from '../helpers/stack';
import { FAST_WEBHOOKS, webhookWorkerEnv } from './helpers';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'webhooks-cli',
    worker: false,
    emulator: { config: { agent: { paceMs: 5 }, webhooks: FAST_WEBHOOKS } },
  });
});
after(() => stack?.stop());

test('`coasty-temporal webhooks` signals the workflows of its runs and refuses forgeries; no secret is exit 2', async () => {
  const env = cliEnv(stack, { COASTY_WEBHOOK_SECRET: stack.emulator.webhookSecret });
  const cli = spawnCli(['webhooks', '--port', '0'], { env });
  try {
    const line = await cli.waitForLine(/^Webhook receiver http:\/\/127\.0\.0\.1:\d+\/webhooks\/runs/);
    const url = /(http:\/\/\S+\/webhooks\/runs)/.exec(line)![1]!;
    await stack.startWorker({ env: webhookWorkerEnv(url, stack.emulator.webhookSecret) });
    const result = await stack.env.client.workflow.execute(agentRun, {
      taskQueue: stack.taskQueue,
      workflowId: `webhooks-cli-${process.pid}`,
      // No reconciliation within the test: the end must come through the receiver.
      args: [
        {
          request: { machine_id: 'm-1', task: 'File the report [steps=3]' },
          delivery: 'webhook',
          reconcileEvery: '1h',
        },
      ],
    });
    assert.equal(result.status, 'succeeded');
    assert.equal(result.steps, 3);
    assert.ok(result.delivery.webhook!.signals >= 2, 'running and succeeded came through the receiver');

    const forged = await fetch(
      `${url}?workflow=${encodeURIComponent(`webhooks-cli-${process.pid}`)}&token=x`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'coasty-signature': `t=${Math.floor(Date.now() / 1000)},v1=00`,
        },
        body: JSON.stringify({
          id: 'evt_forged',
          run_id: result.runId,
          type: 'succeeded',
          status: 'succeeded',
        }),
      },
    );
    assert.equal(forged.status, 401);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0, cli.text());
  } finally {
    cli.child.kill('SIGKILL');
  }
  delete env.COASTY_WEBHOOK_SECRET;
  const missing = await runCli(['webhooks'], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /COASTY_WEBHOOK_SECRET/);
});
