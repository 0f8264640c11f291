// The inline approval prompt of `run`, answered through stdin (a pipe), and the non-interactive paths.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { FILES } from './fixtures';
import { cliEnv, killAllCli, parseJson, processFiles, runCli, spawnCli, uniqueId } from './helpers';

let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({
    label: 'cli-prompt',
    emulator: { config: { machines: 8, agent: { paceMs: 10 } } },
  });
  dir = processFiles(FILES);
  env = cliEnv(stack);
});
after(async () => {
  killAllCli();
  await stack?.stop();
});

interface Approval {
  action: string;
  message?: string;
  by?: string;
}

async function approvalsOf(id: string): Promise<Approval[]> {
  const status = parseJson<{ outcome?: { result?: { approvals?: Approval[] } } }>(
    await runCli(['status', id, '--json'], { env }),
  );
  return status.outcome?.result?.approvals ?? [];
}

test('the approval prompt is answered through stdin: "a <message>" approves', async () => {
  const id = uniqueId('prompt-a');
  const run = spawnCli(['run', join(dir, 'gate.yaml'), '--id', id, '--by', 'ana'], { env, stdin: 'pipe' });
  await run.waitForLine(/Approve\? \[a\]pprove/);
  assert.ok(
    run.stdout.some((line) => /approval gate review waits for a person/.test(line)),
    run.text(),
  );
  run.child.stdin!.write('a looks right\n');
  assert.equal(await run.exited, 0, run.text());
  assert.ok(
    run.stdout.some((line) => /Approved approval gate review: looks right/.test(line)),
    run.text(),
  );
  assert.ok(
    run.stdout.some((line) => /gate-chain succeeded/.test(line)),
    run.text(),
  );
  assert.deepEqual(
    (await approvalsOf(id)).map((a) => [a.action, a.message, a.by]),
    [['approve', 'looks right', 'ana']],
  );
});

test('"r <message>" rejects; a nonsense answer is asked again; the rejected chain exits 1', async () => {
  const id = uniqueId('prompt-r');
  const run = spawnCli(['run', join(dir, 'gate.yaml'), '--id', id], { env, stdin: 'pipe' });
  await run.waitForLine(/Approve\? \[a\]pprove/);
  run.child.stdin!.write('maybe\n');
  await run.waitForLine(/Answer a \(approve\) or r \(reject\)/);
  run.child.stdin!.write('r the amount is wrong\n');
  assert.equal(await run.exited, 1, run.text());
  assert.deepEqual(
    (await approvalsOf(id)).map((a) => [a.action, a.message]),
    [['reject', 'the amount is wrong']],
  );
});

test('stdin closed: run says how to approve from another terminal, and a second process approves', async () => {
  const id = uniqueId('prompt-eof');
  const run = spawnCli(['run', join(dir, 'gate.yaml'), '--id', id], { env, stdin: 'ignore' });
  await run.waitForLine(new RegExp(`approve: npx coasty-temporal approve ${id}`));
  const approved = await runCli(['approve', id, '--message', 'from terminal 2'], { env });
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /Approved approval gate review/);
  assert.equal(await run.exited, 0, run.text());
  assert.equal((await approvalsOf(id))[0]!.message, 'from terminal 2');
});

test('a decision made elsewhere closes the open prompt', async () => {
  const id = uniqueId('prompt-elsewhere');
  const run = spawnCli(['run', join(dir, 'gate.yaml'), '--id', id], { env, stdin: 'pipe' });
  await run.waitForLine(/Approve\? \[a\]pprove/);
  assert.equal((await runCli(['approve', id], { env })).code, 0);
  await run.waitForLine(/was answered elsewhere/);
  assert.equal(await run.exited, 0, run.text());
  run.child.stdin!.end();
});

test('--auto-approve approves every pause (a chain step run and a gate)', async () => {
  const id = uniqueId('auto');
  const result = await runCli(['run', join(dir, 'child-wait.yaml'), '--id', id, '--auto-approve'], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Approved step pay: approved by --auto-approve/);
});
