import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serverCursor, startAgentRun, waitForRunId } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

let stack: TestStack;
const workers: WorkerProcess[] = [];
before(async () => {
  stack = await startStack({
    label: 'crash',
    worker: false,
    emulator: { config: { agent: { paceMs: 5 } } },
  });
});
after(async () => {
  for (const worker of workers) worker.child.kill('SIGKILL');
  await stack?.stop();
});

test('a worker killed with SIGKILL mid-stream: a new worker finishes the run, one run, no step billed twice, no event handled twice', async () => {
  // The first worker is `coasty-temporal worker` itself; its replacement starts from the run's bundle.
  const spawnOne = async (cli: boolean) => {
    const worker = await spawnWorker({
      taskQueue: stack.taskQueue,
      baseUrl: stack.emulator.baseUrl,
      apiKey: stack.emulator.apiKey,
      cli,
    });
    workers.push(worker);
    return worker;
  };
  const first = await spawnOne(true);
  // The run waits before step 60 with its stream open (an emulator hold), so the kill lands mid-stream.
  const handle = await startAgentRun(stack, {
    task: 'Survive a crash [steps=150] [hold@60]',
    streamHeartbeatTimeout: '2s',
  });
  const runId = await waitForRunId(handle);
  await stack.emulator.admin.waitForHolds('the run held with its stream open', (held) =>
    held.some((h) => h.run_id === runId && h.open_streams > 0),
  );
  // Kill only once the server holds a cursor past the start, so the retry must resume, not restart.
  const cursor = await waitUntil('a heartbeated cursor on the server', async () => {
    const saved = await serverCursor(handle);
    return saved && saved.summary.steps >= 10 ? saved : undefined;
  });
  assert.ok(cursor.summary.lastEventId);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  await stack.emulator.admin.release();

  await spawnOne(false);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 150);
  assert.ok(result.delivery.streamRetries >= 1, 'the stream activity was retried after the crash');

  const events = await stack.emulator.admin.runEvents(runId);
  assert.equal(
    result.delivery.eventsHandled,
    events.length,
    'each event handled once in the durable summary',
  );
  const counters = await stack.emulator.admin.counters();
  assert.equal(counters.runs_created, 1);
  assert.equal(counters.steps_billed, 150);
  assert.ok(counters.reconnects_with_last_event_id >= 1, 'the new worker resumed with Last-Event-ID');
});
