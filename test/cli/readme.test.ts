// Every command of the README's tour, its Temporal Cloud example and its emulator line, taken from
// README.md itself and run as written against the local stack (the test server and a test
// emulator stand in for the cloud and the real API), so a README that drifts from the code fails.
// The only change made to a command: the emulator's `--port 8787` becomes `--port 0` (a free port).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { cliEnv, killAllCli, ROOT, runCli, spawnCli } from './helpers';
import { readmeCommands, type ReadmeCommand } from './readme-commands';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTIONS = [
  'A five-minute tour',
  'Against the real API and your own Temporal (or Temporal Cloud)',
  'The emulator: the runs API on your machine',
];
const commands = readmeCommands(README, SECTIONS);

let stack: TestStack;
let env: NodeJS.ProcessEnv;
let cwd: string;

before(async () => {
  stack = await startStack({
    label: 'readme',
    emulator: { config: { machines: 4, agent: { paceMs: 5 } } },
    workerEnv: { COASTY_SECRET_PORTAL_PASSWORD: 'readme-portal-password' },
  });
  env = cliEnv(stack);
  // The commands name examples/... relative to the repository: a copy, so reports land in a temp dir.
  cwd = mkdtempSync(join(tmpdir(), 'coasty-readme-'));
  cpSync(join(ROOT, 'examples'), join(cwd, 'examples'), { recursive: true });
});
after(async () => {
  killAllCli();
  await stack?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

/** The README's command whose arguments start with `prefix`; fails when the README lost it. */
function command(...prefix: string[]): ReadmeCommand {
  const found = commands.find((c) => prefix.every((word, i) => c.args[i] === word));
  assert.ok(found, `README: no command "${prefix.join(' ')}" in ${SECTIONS.join(', ')}:\n${list()}`);
  return found;
}

function list(): string {
  return commands.map((c) => `  ${c.line}`).join('\n');
}

test('the README sections hold exactly the commands this test runs', () => {
  assert.deepEqual(
    commands.map((c) => c.args.slice(0, 2).join(' ')),
    [
      'list --awaiting',
      'approve quickstart',
      'run examples/invoice-batch.yaml',
      'pause invoice-batch',
      'resume invoice-batch',
      'worker',
      'run examples/vendor-onboarding.yaml',
      'emulator --port',
    ],
    `a command was added to or removed from the README: run it here too\n${list()}`,
  );
});

test('tour 1-2: npm start waits for the approval, `list --awaiting` shows it, `approve` from elsewhere ends it', async () => {
  const npmStart = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  assert.equal(npmStart, 'node bin/coasty-temporal.js run examples/quickstart.yaml');
  const run = spawnCli(['run', 'examples/quickstart.yaml'], { env, cwd, asWritten: true });
  await run.waitForLine(/waits for a person/, { timeoutMs: 120_000 });
  const listed = await runCli(command('list', '--awaiting').args, { env, cwd, asWritten: true });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /\bquickstart\b/);
  const approve = command('approve', 'quickstart');
  assert.deepEqual(approve.args, ['approve', 'quickstart', '-m', 'checked against the PO']);
  const approved = await runCli(approve.args, { env, cwd, asWritten: true });
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(await run.exited, 0, run.text());
  assert.ok(
    run.stdout.some((line) => /quickstart succeeded/.test(line)),
    run.text(),
  );
});

test('tour 5: the batch runs, `pause` and `resume` it from another terminal while its runs are held', async () => {
  // Every item's run waits before step 2 until released, so pause and resume meet a running batch.
  await stack.emulator.admin.script({ match: 'ap\\.example\\.com', holdAt: 2, times: 1000 });
  const run = spawnCli(command('run', 'examples/invoice-batch.yaml').args, { env, cwd, asWritten: true });
  await stack.emulator.admin.waitForHolds('four invoice runs held', (held) => held.length === 4, 120_000);
  const paused = await runCli(command('pause', 'invoice-batch').args, { env, cwd, asWritten: true });
  assert.equal(paused.code, 0, paused.stderr);
  const resumed = await runCli(command('resume', 'invoice-batch').args, { env, cwd, asWritten: true });
  assert.equal(resumed.code, 0, resumed.stderr);
  await stack.emulator.admin.clearScripts();
  // Runs created before the scripts were cleared still hold: release until the batch ends.
  const releasing = (async () => {
    while (run.child.exitCode === null) {
      await stack.emulator.admin.release();
      await stack.emulator.admin.waitForHolds(
        'a new hold or the end',
        (held) => held.length > 0 || run.child.exitCode !== null,
        120_000,
      );
    }
  })();
  assert.equal(await run.exited, 0, `the batch succeeded (exit 0)\n${run.text()}`);
  await releasing;
});

test('the Temporal Cloud example: `run examples/vendor-onboarding.yaml` with the inputs as written', async () => {
  const example = command('run', 'examples/vendor-onboarding.yaml');
  const run = spawnCli(example.args, { env, cwd, asWritten: true });
  await run.waitForLine(/waits for a person/, { timeoutMs: 120_000 });
  const approved = await runCli(['approve', 'vendor-onboarding'], { env, cwd, asWritten: true });
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(await run.exited, 0, `the chain succeeded (exit 0)\n${run.text()}`);
  const worker = command('worker');
  assert.deepEqual(worker.args, ['worker'], 'the worker line takes its settings from the environment');
});

test('the emulator line starts the emulator with its machines and seed', async () => {
  const line = command('emulator', '--port');
  const args = line.args.map((arg, i) => (line.args[i - 1] === '--port' ? '0' : arg));
  const emulator = spawnCli(args, { env, cwd, asWritten: true });
  const listening = await emulator.waitForLine(/listening on http:\/\/127\.0\.0\.1:\d+/, {
    timeoutMs: 60_000,
  });
  const origin = /http:\/\/127\.0\.0\.1:\d+/.exec(listening)![0];
  assert.match(await emulator.waitForLine(/^ {2}machines:/), /^ {2}machines: +m-1, m-2, m-3, m-4$/);
  assert.match(await emulator.waitForLine(/^ {2}seed:/), /^ {2}seed: +7,/);
  const apiKey = /API key: +(\S+)/.exec(await emulator.waitForLine(/API key:/))![1];
  const machines = await fetch(`${origin}/v1/machines`, { headers: { authorization: `Bearer ${apiKey}` } });
  assert.equal(machines.status, 200);
  const body = (await machines.json()) as { data: Array<{ id: string }> };
  assert.deepEqual(
    body.data.map((m) => m.id),
    ['m-1', 'm-2', 'm-3', 'm-4'],
  );
  emulator.child.kill('SIGTERM');
  assert.equal(await emulator.exited, 0, emulator.text());
});
