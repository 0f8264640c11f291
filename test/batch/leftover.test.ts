// A batch started again while a child of its earlier execution still runs (audit A3): that item is
// waited for and then redone, never counted as "succeeded before".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runBatch } from '../../workflows/run-batch';
import { progressQuery, type AgentRunProgress } from '../../workflows/messages';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { batch } from './specs';

let stack: TestStack;
before(async () => {
  stack = await startStack({
    label: 'batch-leftover',
    emulator: { config: { machines: 4, agent: { paceMs: 2 } } },
  });
});
after(() => stack?.stop());

test('a re-run waits for a leftover child that is still cancelling its run, then redoes the item', async () => {
  const workflowId = `batch-leftover-${process.pid}`;
  const keys = ['inv-001', 'inv-002'];
  const first = await stack.env.client.workflow.start(runBatch, {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [batch(2, { concurrency: 2, taskTemplate: 'Check {{item.id}} [steps=2] [human@1]' })],
  });
  const children = keys.map((key) => stack.env.client.workflow.getHandle(`${workflowId}/${key}`));
  for (const child of children) {
    await waitUntil('the item to wait for a person', async () => {
      const progress = (await child.query(progressQuery).catch(() => undefined)) as
        AgentRunProgress | undefined;
      return progress?.status === 'awaiting_human' || undefined;
    });
  }
  // The API refuses every cancel for now: the children, asked to cancel by the terminated batch, keep retrying.
  await stack.emulator.admin.setFaults({
    errors: [{ status: 503, rate: 1, retryAfterSeconds: 1, endpoints: ['cancel'] }],
  });
  let cleared = false;
  try {
    await first.terminate('operator restarts the batch');
    await waitUntil(
      'a refused cancel',
      async () => (await stack.emulator.admin.counters()).faults_injected > 0 || undefined,
    );
    const again = await stack.env.client.workflow.start(runBatch, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [batch(2, { concurrency: 2, taskTemplate: 'Check {{item.id}} again [steps=1]' })],
    });
    // The re-run found both leftovers running: it probed them and waits.
    await waitUntil('the re-run to probe the leftovers', async () => {
      const history = await again.fetchHistory();
      const probes = history.events!.filter(
        (event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes,
      );
      return probes.length >= 2 || undefined;
    });
    for (const child of children) {
      const { status, runId } = await child.describe();
      assert.equal(status.name, 'RUNNING', 'the leftover still runs: it is no success of the past');
      assert.notEqual(runId, undefined);
    }
    await stack.emulator.admin.clearFaults();
    cleared = true;
    const result = await again.result();
    assert.deepEqual(
      { succeeded: result.succeeded, skipped: result.skipped, failed: result.failed },
      { succeeded: 2, skipped: 0, failed: 0 },
    );
    for (const item of result.items) {
      const truth = await stack.emulator.admin.run(item.runId!);
      assert.equal(truth.run.task, `Check ${item.key} again [steps=1]`);
    }
  } finally {
    if (!cleared) await stack.emulator.admin.clearFaults();
  }
});
