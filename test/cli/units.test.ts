// The CLI's pure pieces: answers, queries, text, outcomes, ports and the stack file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_TASK_QUEUE as CLIENT_QUEUE } from '../../client/connect';
import { listQuery } from '../../client/commands/list';
import { COMMAND_LOADERS, commandsFor } from '../../client/commands/table';
import { outcomeFromResult } from '../../client/outcome';
import { parseAnswer } from '../../client/prompt';
import { bar, describeAction, duration } from '../../client/watch/format';
import { lineText } from '../../client/watch/lines';
import { acquireStackLock, readStackRecord, writeStackRecord, type StackRecord } from '../../dev/stack-file';
import { choosePort, PortError } from '../../dev/stack-ports';
import { DEFAULT_TASK_QUEUE as WORKER_QUEUE } from '../../worker/index';
import { tempDir } from '../helpers/temp-dir';

test('prompt answers: a/approve/y approve, r/reject/n reject, the rest is the message', () => {
  assert.deepEqual(parseAnswer('a'), { action: 'approve' });
  assert.deepEqual(parseAnswer('  Approve: looks good '), { action: 'approve', message: 'looks good' });
  assert.deepEqual(parseAnswer('y'), { action: 'approve' });
  assert.deepEqual(parseAnswer('r wrong amount'), { action: 'reject', message: 'wrong amount' });
  assert.deepEqual(parseAnswer('no, not today'), { action: 'reject', message: 'not today' });
  assert.equal(parseAnswer(''), undefined);
  assert.equal(parseAnswer('maybe'), undefined);
});

test('list queries filter on CoastyStatus, top-level processes and the task queue', () => {
  assert.equal(
    listQuery({}),
    "WorkflowType IN ('agentRun', 'batchItem', 'runChain', 'runBatch') AND ParentWorkflowId IS NULL",
  );
  const awaiting = listQuery({ awaiting: true }, 'q1');
  assert.match(awaiting, /CoastyStatus IN \('awaiting_human', 'awaiting_approval', 'awaiting_budget'\)/);
  assert.match(awaiting, /ExecutionStatus = 'Running'/);
  assert.doesNotMatch(awaiting, /ParentWorkflowId/);
  assert.match(awaiting, /TaskQueue = 'q1'$/);
  assert.match(listQuery({ status: 'failed', all: true }), /AND CoastyStatus = 'failed'$/);
});

test('text: bars, durations, actions', () => {
  assert.equal(bar(5, 20, 8), '[██░░░░░░]');
  assert.equal(bar(30, 20, 4), '[████]');
  assert.equal(duration(7_000), '0:07');
  assert.equal(duration(3_723_000), '1:02:03');
  assert.equal(describeAction({ type: 'click', x: 1, y: 2, target: 'Pay' }), 'click "Pay" (1, 2)');
  assert.equal(describeAction({ type: 'navigate', url: 'https://a.example' }), 'navigate https://a.example');
  assert.equal(describeAction({ type: 'type', text: 'ACME', field: 'name' }), 'type "ACME" into name');
});

test('outcomes: a chain by its status, a batch by its failed items', () => {
  assert.equal(outcomeFromResult({ status: 'succeeded' }).ok, true);
  const failed = outcomeFromResult({ status: 'failed', error: { type: 'agent_error', message: 'boom' } });
  assert.deepEqual([failed.ok, failed.error], [false, 'agent_error: boom']);
  assert.equal(outcomeFromResult({ total: 3, succeeded: 3, failed: 0 }).ok, true);
  const batch = outcomeFromResult({ total: 3, succeeded: 2, failed: 1 });
  assert.deepEqual([batch.ok, batch.status, batch.error], [false, 'completed', '1 item failed']);
});

test('the client and the worker agree on the default task queue', () => {
  assert.equal(CLIENT_QUEUE, WORKER_QUEUE);
});

test('ports: the preferred one, else the next free one (said), an explicit busy one is an error', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const busy = (server.address() as { port: number }).port;
  try {
    const next = await choosePort('X_PORT', busy, 'thing', {});
    assert.ok(next.port > busy);
    assert.match(next.note!, new RegExp(`port ${busy} is in use, using ${next.port} \\(set X_PORT`));
    await assert.rejects(choosePort('X_PORT', 1, 'thing', { X_PORT: String(busy) }), PortError);
    await assert.rejects(choosePort('X_PORT', 1, 'thing', { X_PORT: 'abc' }), /not a port/);
    assert.ok((await choosePort('X_PORT', busy, 'thing', { X_PORT: '0' })).port > 0);
  } finally {
    server.close();
  }
});

test('stack.json of a dead process is ignored and removed; the lock is taken once', () => {
  const dir = tempDir('coasty-stackfile');
  const record: StackRecord = {
    version: 1,
    pid: 2 ** 22 + 12345, // above pid_max defaults: not a live process
    cwd: dir,
    temporalAddress: '127.0.0.1:1',
    namespace: 'default',
    uiUrl: '',
    apiBaseUrl: 'http://127.0.0.1:2/v1',
    taskQueue: 'q',
    startedAt: new Date().toISOString(),
  };
  writeStackRecord(dir, record);
  assert.equal(readStackRecord(dir), undefined);
  assert.equal(existsSync(join(dir, 'stack.json')), false);
  writeStackRecord(dir, { ...record, pid: process.pid });
  assert.equal(readStackRecord(dir)?.pid, process.pid);

  writeFileSync(join(dir, 'stack.lock'), String(record.pid)); // stale lock
  const lock = acquireStackLock(dir);
  assert.equal(lock.acquired, true);
  if (lock.acquired) lock.release();
  assert.equal(existsSync(join(dir, 'stack.lock')), false);
});

test('the command table: each name loads the command of that name, and a command word loads only its own', async () => {
  for (const [name, load] of COMMAND_LOADERS) assert.equal((await load()).name(), name);
  assert.deepEqual(
    (await commandsFor(['status', 'cli-1', '--json'])).map((command) => command.name()),
    ['status'],
  );
  assert.deepEqual(
    (await commandsFor(['worker', '--task-queue', 'q'])).map((command) => command.name()),
    ['worker'],
  );
  const all = COMMAND_LOADERS.map(([name]) => name);
  for (const args of [[], ['--help'], ['help', 'run'], ['statsu']])
    assert.deepEqual(
      (await commandsFor(args)).map((command) => command.name()),
      all,
      args.join(' '),
    );
});

test("a line shows the agent's last action while it runs, not once it has ended", () => {
  const line = {
    id: 'download',
    type: 'agent' as const,
    steps: 6,
    maxSteps: 20,
    costUsd: 0.3,
    action: { type: 'click' as const, x: 1232, y: 747, target: 'Sign in' },
  };
  assert.match(lineText({ ...line, state: 'running' }, 8, 0, 200), /click "Sign in" \(1232, 747\)$/);
  for (const state of ['succeeded', 'cancelled', 'timed_out'])
    assert.doesNotMatch(lineText({ ...line, state }, 8, 0, 200), /click/, state);
  const failed = {
    ...line,
    state: 'failed',
    error: { type: 'agent_error', message: 'the page did not load' },
  };
  assert.match(lineText(failed, 8, 0, 200), /agent_error: the page did not load$/);
});
