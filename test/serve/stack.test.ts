// The local stack starts serve too: `dev` prints "Approve in the browser: <url>", and a chain's gate
// started through the CLI is in that inbox and approved there, recorded as the local user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { WaitingItem } from '../../client/inbox';
import { runCli, spawnCli } from '../cli/helpers';
import { waitUntil } from '../helpers/wait';
import { HttpSession } from './helpers';

const CHAIN = `name: serve-stack
defaults:
  machine: m-1
steps:
  - id: check
    task: Check the invoice [steps=1]
  - id: review
    approval: Pay it?
`;

test('`dev` starts serve and prints its address; its inbox decides a gate of a chain the CLI started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coasty-serve-stack-'));
  writeFileSync(join(dir, 'chain.yaml'), CHAIN);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COASTY_UI_PORT: '0',
    COASTY_EMULATOR_PORT: '0',
    COASTY_TEMPORAL_PORT: '0',
    COASTY_SERVE_PORT: '0',
    COASTY_EMULATOR_PACE_MS: '10',
    NO_COLOR: '1',
  };
  for (const name of [
    'TEMPORAL_ADDRESS',
    'TEMPORAL_PROFILE',
    'COASTY_BASE_URL',
    'COASTY_API_KEY',
    'COASTY_TASK_QUEUE',
    'COASTY_SERVE_TOKENS',
  ]) {
    delete env[name];
  }
  delete env.NODE_TEST_CONTEXT;
  const dev = spawnCli(['dev'], { env, cwd: dir });
  try {
    const line = await dev.waitForLine(/Approve in the browser: /, { timeoutMs: 180_000 });
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)![1]!;
    const started = await runCli(['start', 'chain.yaml', '--id', 'serve-stack-1'], { env, cwd: dir });
    assert.equal(started.code, 0, started.stderr);

    const me = new HttpSession(url);
    await me.loadCsrf();
    const item = await waitUntil('the gate in the inbox', async () => {
      const { items } = (await (await me.fetch('/api/inbox')).json()) as { items: WaitingItem[] };
      return items.find((candidate) => candidate.processId === 'serve-stack-1');
    });
    assert.equal(item.reason, 'Pay it?');
    const decided = await me.post('/api/processes/serve-stack-1/decisions', {
      action: 'approve',
      requestId: item.requestId,
    });
    assert.equal(decided.status, 200);
    const status = await waitUntil('the chain to succeed', async () => {
      const result = await runCli(['status', 'serve-stack-1', '--json'], { env, cwd: dir });
      const snapshot = JSON.parse(result.stdout) as { status: string };
      return snapshot.status === 'succeeded' ? snapshot : undefined;
    });
    assert.equal(status.status, 'succeeded');
    const view = (await (await me.fetch('/api/processes/serve-stack-1')).json()) as {
      decisions: Array<{ action: string; by: string; where: string }>;
    };
    assert.deepEqual(
      view.decisions.map(({ action, by, where }) => ({ action, by, where })),
      [{ action: 'approve', by: userInfo().username, where: 'review' }],
    );
    const page = await (await me.fetch('/processes/serve-stack-1')).text();
    assert.match(
      page,
      new RegExp(`<b>approve</b>\\s*<code>review</code>\\s*by\\s*<b>${userInfo().username}</b>`),
    );
  } finally {
    dev.child.kill('SIGTERM');
    assert.equal(await dev.exited, 0, dev.text());
    rmSync(dir, { recursive: true, force: true });
  }
});
