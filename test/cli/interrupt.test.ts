// Ctrl-C (SIGINT) stops watching, never the process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { FILES } from './fixtures';
import { cliEnv, killAllCli, processFiles, runCli, spawnCli, uniqueId } from './helpers';

let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({
    label: 'cli-sigint',
    emulator: { config: { machines: 8, agent: { paceMs: 10 } } },
  });
  dir = processFiles(FILES);
  env = cliEnv(stack);
});
after(async () => {
  killAllCli();
  await stack?.stop();
});

async function executionStatus(id: string): Promise<string> {
  return (await stack.env.client.workflow.getHandle(id).describe()).status.name;
}

for (const command of ['run', 'watch'] as const) {
  test(`SIGINT stops \`${command}\` (exit 130) and leaves the process running`, async () => {
    const id = uniqueId(`sigint-${command}`);
    if (command === 'watch') {
      assert.equal((await runCli(['start', join(dir, 'gate.yaml'), '--id', id], { env })).code, 0);
    }
    const args =
      command === 'run'
        ? ['run', join(dir, 'gate.yaml'), '--id', id, '--no-prompt']
        : ['watch', id, '--no-prompt'];
    const cli = spawnCli(args, { env });
    await cli.waitForLine(/approval gate review waits for a person/);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 130, cli.text());
    assert.ok(
      cli.stdout.some((line) => line.includes(`Stopped watching. ${id} goes on.`)),
      cli.text(),
    );
    assert.ok(
      cli.stdout.some((line) => line.includes(`npx coasty-temporal watch ${id}`)),
      cli.text(),
    );
    assert.equal(await executionStatus(id), 'RUNNING');

    // It is still there to approve and finish.
    assert.equal((await runCli(['approve', id], { env })).code, 0);
    assert.equal((await runCli(['watch', id, '--json'], { env })).code, 0);
    assert.equal(await executionStatus(id), 'COMPLETED');
  });
}

test('SIGINT to `run --json` ends with an `interrupted` line', async () => {
  const id = uniqueId('sigint-json');
  const cli = spawnCli(['run', join(dir, 'gate.yaml'), '--id', id, '--json'], { env });
  await cli.waitForLine(/"type":"awaiting"/);
  cli.child.kill('SIGINT');
  assert.equal(await cli.exited, 130);
  const last = JSON.parse(cli.stdout.at(-1)!) as { type: string; workflowId: string; hints: string[] };
  assert.equal(last.type, 'interrupted');
  assert.equal(last.workflowId, id);
  assert.equal(await executionStatus(id), 'RUNNING');
  await stack.env.client.workflow.getHandle(id).cancel();
});
