// Everything that waits for a person shows in the inbox, and is decided from it: a single run, batch
// items, a chain waiting for a budget. And `coasty-temporal serve` as a command.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WaitingItem } from '../../client/inbox';
import { runBatch } from '../../workflows/run-batch';
import { batch } from '../batch/specs';
import { agent, chain } from '../chain/specs';
import { spawnCli } from '../cli/helpers';
import { startAgentRun } from '../helpers/agent-run';
import { testServerAddress } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { HttpSession, startChain, startServeStack, type ServeStack } from './helpers';

let s: ServeStack;
let me: HttpSession;
before(async () => {
  s = await startServeStack({ label: 'serve-waiting', runs: true });
  // No tokens: this machine only, every visitor is the local user (a session comes with the first page).
  me = new HttpSession(s.serve.url);
  await me.loadCsrf();
});
after(() => s?.stop());

async function inboxOf(processId: string, count: number): Promise<WaitingItem[]> {
  return waitUntil(`${count} waiting item(s) of ${processId}`, async () => {
    const { items } = (await (await me.fetch('/api/inbox')).json()) as { items: WaitingItem[] };
    const mine = items.filter((item) => item.processId === processId);
    return mine.length === count ? mine : undefined;
  });
}

test('a single run paused for a person is in the inbox with its last steps, and approved from it', async () => {
  const handle = await startAgentRun(s.stack, { task: 'Submit the expense report [steps=4] [human@3]' });
  const [item] = await inboxOf(handle.workflowId, 1);
  assert.equal(item!.where, 'run');
  assert.equal(item!.timeoutPolicy, 'reject');
  assert.equal(item!.line?.steps, 2);
  assert.equal(item!.recent?.length, 2, 'the two steps before the pause');
  assert.ok(item!.recent![0]!.observation);
  const page = await (await me.fetch('/')).text();
  assert.ok(
    page.includes(item!.recent![1]!.observation!.replace(/"/g, '&quot;')),
    'the inbox shows the observations',
  );
  const decided = await me.post(`/api/processes/${handle.workflowId}/decisions`, {
    action: 'approve',
    requestId: item!.requestId,
  });
  assert.equal(decided.status, 200);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals[0]!.by, (await import('node:os')).userInfo().username);
});

test("a batch's items waiting for a person are each in the inbox, and each is decided", async () => {
  const spec = batch(2, { taskTemplate: 'Verify invoice {{item.id}} [steps=2] [human@1]' });
  const handle = await s.stack.env.client.workflow.start(runBatch, {
    taskQueue: s.stack.taskQueue,
    workflowId: `serve-batch-${process.pid}`,
    args: [spec],
  });
  const items = await inboxOf(handle.workflowId, 2);
  assert.deepEqual(items.map((item) => [item.where, item.id]).sort(), [
    ['item', 'inv-001'],
    ['item', 'inv-002'],
  ]);
  for (const item of items) {
    const response = await me.post(`/api/processes/${handle.workflowId}/decisions`, {
      action: item.id === 'inv-001' ? 'approve' : 'reject',
      requestId: item.requestId,
      message: `decided ${item.id}`,
    });
    assert.equal(response.status, 200);
  }
  const result = await handle.result();
  assert.equal(result.succeeded, 1);
  assert.equal(result.failed, 1);
});

test('a chain waiting for a budget is in the inbox; raising it from there lets the chain go on', async () => {
  const handle = await startChain(
    s.stack,
    chain(
      [agent('one', 'First [steps=1]', { maxSteps: 2 }), agent('two', 'Second [steps=1]', { maxSteps: 2 })],
      {
        maxCostCents: 10,
      },
    ),
    'budget',
  );
  const [item] = await inboxOf(handle.workflowId, 1);
  assert.equal(item!.where, 'budget');
  assert.equal(item!.maxCostUsd, 0.1);
  assert.ok(item!.neededUsd! > 0.1);
  const page = await (await me.fetch(`/processes/${handle.workflowId}`)).text();
  assert.match(page, /Raise the budget/);
  const raised = await me.fetch(`/processes/${handle.workflowId}/budget`, {
    method: 'POST',
    form: { csrf: me.csrf, maxCostUsd: '0.50' },
  });
  assert.equal(raised.status, 303);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
});

test('`coasty-temporal serve` prints its address, serves the inbox, and stops on SIGTERM', async () => {
  const cli = spawnCli(['serve', '--port', '0', '--task-queue', s.stack.taskQueue], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testServerAddress(),
      COASTY_SERVE_TOKENS: '',
      COASTY_LINK_SECRET: '',
    },
  });
  const line = await cli.waitForLine(/^Approve in the browser: /);
  const url = line.replace('Approve in the browser: ', '').trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const inbox = await fetch(url);
  assert.equal(inbox.status, 200);
  assert.match(await inbox.text(), /Waiting for a person/);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0, cli.text());

  const refused = spawnCli(['serve', '--port', '0', '--host', '0.0.0.0'], {
    env: { ...process.env, TEMPORAL_ADDRESS: testServerAddress(), COASTY_SERVE_TOKENS: '' },
  });
  assert.equal(await refused.exited, 2, refused.text());
  assert.match(refused.stderr.join('\n'), /set COASTY_SERVE_TOKENS/);
});
