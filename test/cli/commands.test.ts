// Every client command in a spawned process, its --json output parsed and checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { FILES } from './fixtures';
import { cliEnv, killAllCli, parseJson, parseJsonLines, processFiles, runCli, uniqueId } from './helpers';

let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({ label: 'cli', emulator: { config: { machines: 8, agent: { paceMs: 10 } } } });
  dir = processFiles(FILES);
  env = cliEnv(stack);
});
after(async () => {
  killAllCli();
  await stack?.stop();
});

const cli = (...args: string[]) => runCli(args, { env });

interface StatusJson {
  workflowId: string;
  kind: string;
  status: string;
  execution: string;
  pauses: Array<{ workflowId: string; requestId: string; where: string; id?: string }>;
  lines: Array<{ id: string; state: string; workflowId?: string }>;
  outcome?: { ok: boolean; status: string; result?: Record<string, unknown>; error?: string };
}

async function status(id: string): Promise<StatusJson> {
  const result = await cli('status', id, '--json');
  assert.equal(result.code, 0, result.stderr);
  return parseJson<StatusJson>(result);
}

function waitForPauses(id: string, count = 1): Promise<StatusJson> {
  return waitUntil(`${count} pause(s) of ${id}`, async () => {
    const now = await status(id);
    return now.pauses.length >= count ? now : undefined;
  });
}

test('bad usage exits 2 and shows the usage', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /unknown command 'bogus'/],
    [['run'], /missing required argument 'file'/],
    [['run', 'x.yaml', '--bogus'], /unknown option '--bogus'/],
    [['approve'], /missing required argument 'id'/],
    [['list', '--status', 'nope'], /expected one of/],
    [['list', '--limit', '0'], /whole number/],
    [['run', join(dir, 'broken.yaml')], /broken\.yaml:\d+:\d+ .*tsak/],
    [['start', join(dir, 'gate.yaml'), '--input', 'novalue'], /--input expects name=value/],
    [
      ['start', join(dir, 'gate.yaml'), '--id', 'pay\u0007ment'],
      /cannot be a workflow id: it holds the control character U\+0007/,
    ],
    [
      ['start', join(dir, 'gate.yaml'), '--id', 'x'.repeat(201)],
      /cannot be a workflow id: it has 201 characters; at most 200/,
    ],
    // Checked before anything is sent: the runs API would refuse it after the workflow took it.
    [
      ['reject', 'some-process', '-m', 'x'.repeat(10_001)],
      /Not sent: message is 10001 characters; the runs API accepts at most 10000/,
    ],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const result = await cli(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.match(result.stderr, /Usage: coasty-temporal|see --help/, args.join(' '));
    }),
  );
});

test('--help works on every command and documents the exit codes', async () => {
  const top = await cli('--help');
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Exit codes: 0 success/);
  const commands = [
    'run',
    'start',
    'watch',
    'approve',
    'reject',
    'cancel',
    'list',
    'status',
    'dev',
    'schema',
  ];
  await Promise.all(
    commands.map(async (command) => {
      const help = await cli(command, '--help');
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`Usage: coasty-temporal ${command}`));
    }),
  );
});

test('schema prints the JSON Schema of process files', async () => {
  const schema = parseJson(await cli('schema', '--json'));
  assert.equal(schema.title, 'coasty-temporal process file');
  assert.ok(Array.isArray(schema.anyOf));
});

test('start, list, status, approve and watch a chain with an approval gate', async () => {
  const id = uniqueId('gate');
  const file = join(dir, 'gate.yaml');
  const started = parseJson(await cli('start', file, '--id', id, '--json'));
  assert.equal(started.workflowId, id);
  assert.equal(started.kind, 'chain');
  assert.equal(started.attached, false);
  assert.equal(started.taskQueue, stack.taskQueue);

  const again = parseJson(await cli('start', file, '--id', id, '--json'));
  assert.equal(again.attached, true, 'the same id attaches to the running process');
  assert.equal(again.runId, started.runId);

  const waiting = await waitForPauses(id);
  assert.equal(waiting.kind, 'chain');
  assert.equal(waiting.status, 'awaiting_human');
  assert.deepEqual(
    waiting.pauses.map((p) => [p.where, p.id, p.workflowId]),
    [['gate', 'review', id]],
  );
  assert.equal(waiting.lines[0]!.state, 'succeeded');

  // Visibility is eventually consistent: wait until the list shows it.
  const listed = await waitUntil('the chain in list --awaiting', async () => {
    const rows = parseJson<Array<{ workflowId: string; coastyStatus?: string; kind: string }>>(
      await cli('list', '--awaiting', '--json'),
    );
    return rows.find((row) => row.workflowId === id);
  });
  assert.equal(listed.coastyStatus, 'awaiting_human');
  assert.equal(listed.kind, 'chain');
  const all = parseJson<Array<{ workflowId: string }>>(await cli('list', '--json'));
  assert.ok(all.some((row) => row.workflowId === id));
  assert.ok(!all.some((row) => row.workflowId.startsWith(`${id}/`)), 'children only with --all');
  await waitUntil('the chain step in list --all', async () =>
    parseJson<Array<{ workflowId: string }>>(await cli('list', '--all', '--json')).some(
      (row) => row.workflowId === `${id}/work`,
    ),
  );

  const approved = parseJson(await cli('approve', id, '--message', 'ok to pay', '--by', 'tester', '--json'));
  assert.equal(approved.accepted, true);
  assert.equal(approved.target, id);
  assert.equal(approved.where, 'gate');
  assert.equal(approved.action, 'approve');

  const watched = await cli('watch', id, '--json');
  assert.equal(watched.code, 0, watched.stderr);
  const events = parseJsonLines(watched.stdout);
  const done = events.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.ok, true);
  assert.equal(done.status, 'succeeded');
  assert.ok(events.some((event) => event.type === 'progress'));

  const final = await status(id);
  assert.equal(final.execution, 'COMPLETED');
  assert.equal(final.outcome?.ok, true);
  const approvals = final.outcome?.result?.approvals as Array<{
    by?: string;
    message?: string;
    action: string;
  }>;
  assert.equal(approvals[0]!.by, 'tester');
  assert.equal(approvals[0]!.message, 'ok to pay');

  const late = await cli('approve', id);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /not waiting for a person/);
});

test("approve/reject on a chain reach its step's waiting run; a rejected run fails the chain (exit 1)", async () => {
  const id = uniqueId('child');
  assert.equal((await cli('start', join(dir, 'child-wait.yaml'), '--id', id)).code, 0);
  const waiting = await waitForPauses(id);
  assert.deepEqual(
    waiting.pauses.map((p) => [p.where, p.id, p.workflowId]),
    [['step', 'pay', `${id}/pay`]],
  );
  const rejected = parseJson(await cli('reject', id, '-m', 'wrong vendor', '--json'));
  assert.equal(rejected.target, `${id}/pay`);
  assert.equal(rejected.accepted, true);

  const watched = await cli('watch', id, '--json');
  assert.equal(watched.code, 1, 'the process failed');
  const done = parseJsonLines(watched.stdout).at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.ok, false);
  assert.equal(done.status, 'failed');
});

test('a batch: several waiting items need a name (exit 2); <batch id>/<item key> decides one', async () => {
  const id = uniqueId('batch');
  assert.equal((await cli('start', join(dir, 'waiting-batch.yaml'), '--id', id)).code, 0);
  const waiting = await waitForPauses(id, 2);
  assert.equal(waiting.kind, 'batch');
  assert.deepEqual(waiting.pauses.map((p) => p.workflowId).sort(), [`${id}/a`, `${id}/b`]);

  const ambiguous = await cli('approve', id);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, new RegExp(`approve ${id}/a`));
  assert.match(ambiguous.stderr, new RegExp(`approve ${id}/b`));

  const one = parseJson(await cli('approve', `${id}/a`, '--json'));
  assert.equal(one.target, `${id}/a`);
  assert.equal(one.accepted, true);
  const other = parseJson(await cli('reject', id, '--json', '-m', 'not this one'));
  assert.equal(other.target, `${id}/b`, 'the only one left waiting');

  const watched = await cli('watch', id, '--json');
  assert.equal(watched.code, 1, 'one item failed');
  const done = parseJsonLines(watched.stdout).at(-1)!;
  assert.equal(done.status, 'completed');
  const result = done.result as { succeeded: number; failed: number };
  assert.equal(result.succeeded, 1);
  assert.equal(result.failed, 1);
});

test('run a batch to its end: exit 0, NDJSON events, and the CSV report', async () => {
  const id = uniqueId('plain');
  const report = join(dir, `${id}.csv`);
  const result = await cli('run', join(dir, 'plain-batch.yaml'), '--id', id, '--json', '--report', report);
  assert.equal(result.code, 0, result.stderr);
  const events = parseJsonLines(result.stdout);
  assert.equal(events[0]!.type, 'started');
  assert.equal(events[0]!.kind, 'batch');
  const done = events.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.ok, true);
  const csv = readFileSync(report, 'utf8').trim().split('\n');
  assert.equal(csv.length, 4);
  assert.match(csv[0]!, /^id,amount,status,run_id,cost_usd/);
  assert.ok(csv.slice(1).every((line) => line.includes(',succeeded,')));
  assert.match(result.stderr, /Report: /);
});

test('cancel --json cancels a waiting process', async () => {
  const id = uniqueId('cancel');
  assert.equal((await cli('start', join(dir, 'gate.yaml'), '--id', id)).code, 0);
  await waitForPauses(id);
  const cancelled = parseJson<{ cancelRequested: boolean; outcome: { status: string; ok: boolean } }>(
    await cli('cancel', id, '--wait', '--json'),
  );
  assert.equal(cancelled.cancelRequested, true);
  assert.equal(cancelled.outcome.status, 'cancelled');
  assert.equal(cancelled.outcome.ok, false);
  assert.equal((await status(id)).execution, 'CANCELLED');
  const again = await cli('cancel', id);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /ended already/);
});

test('an unknown id is a clear error (exit 1)', async () => {
  for (const args of [
    ['status', 'no-such-process'],
    ['watch', 'no-such-process'],
    ['approve', 'no-such-process'],
  ]) {
    const result = await cli(...args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, /No process with id "no-such-process"/);
  }
});
