// The README's main command: `npm start` = `coasty-temporal run examples/quickstart.yaml`, non-interactive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type TestStack } from '../helpers/stack';
import { cliEnv, killAllCli, parseJsonLines, runCli, spawnCli, uniqueId } from './helpers';

let stack: TestStack;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({ label: 'cli-quickstart', emulator: { config: { agent: { paceMs: 10 } } } });
  env = cliEnv(stack);
});
after(async () => {
  killAllCli();
  await stack?.stop();
});

test('run examples/quickstart.yaml, answering the approval through stdin, runs to success', async () => {
  // Its own id: the bare `quickstart` id belongs to the README's tour (test/cli/readme.test.ts).
  const id = uniqueId('quickstart-stdin');
  const run = spawnCli(['run', 'examples/quickstart.yaml', '--id', id], { env, stdin: 'pipe' });
  await run.waitForLine(/Approve\? \[a\]pprove/);
  assert.ok(
    run.stdout.some((line) => line.includes(`Started quickstart (chain) as ${id}`)),
    run.text(),
  );
  // The answer, an empty message, and the end of the input, as `printf 'a\n\n' | npm start` gives.
  run.child.stdin!.end('approve\n\n');
  assert.equal(await run.exited, 0, run.text());
  const asked = run.stdout.filter((line) => line.includes('Pay the March invoice?'));
  assert.equal(asked.length, 1, `the question is shown once:\n${run.text()}`);
  assert.ok(!run.stdout.some((line) => line.includes('The input ended')), run.text());
  assert.ok(
    run.stdout.some((line) => /quickstart succeeded/.test(line)),
    run.text(),
  );
  const steps = run.stdout.filter((line) => /^\S+ {3}(download|check|pay) succeeded/.test(line));
  assert.equal(steps.length, 3, run.text());
});

test('run examples/quickstart.yaml --auto-approve --json: every step succeeds', async () => {
  const id = uniqueId('quickstart');
  const result = await runCli(['run', 'examples/quickstart.yaml', '--id', id, '--auto-approve', '--json'], {
    env,
  });
  assert.equal(result.code, 0, result.stderr);
  const events = parseJsonLines(result.stdout);
  const done = events.at(-1) as {
    type: string;
    ok: boolean;
    status: string;
    result: {
      steps: Array<{ id: string; state: string }>;
      costUsd: number;
      approvals: Array<{ stepId: string }>;
    };
  };
  assert.equal(done.type, 'done');
  assert.equal(done.ok, true);
  assert.deepEqual(
    done.result.steps.map((step) => [step.id, step.state]),
    [
      ['download', 'succeeded'],
      ['check', 'succeeded'],
      ['manager_review', 'approved'],
      ['pay', 'succeeded'],
    ],
  );
  assert.equal(done.result.approvals[0]!.stepId, 'manager_review');
  assert.ok(done.result.costUsd > 0);
  assert.ok(events.some((event) => event.type === 'note' && event.decision === 'approve'));
});
