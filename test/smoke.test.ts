import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectTestEnv, uniqueTaskQueue } from './helpers/temporal';
import * as activities from './fixtures/smoke-activities';
import { proceedSignal, smokeWorkflow } from './fixtures/smoke-workflows';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnv();
});
after(async () => {
  await env?.teardown();
});

test('a workflow calls an activity, waits for a signal and completes on the real Temporal server', async () => {
  const taskQueue = uniqueTaskQueue('smoke');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/smoke-workflows.ts', import.meta.url)),
    activities,
  });
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(smokeWorkflow, {
      taskQueue,
      workflowId: `smoke-${Date.now()}`,
      args: ['coasty'],
    });
    await handle.signal(proceedSignal, 'go');
    const value = await handle.result();
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    return value;
  });
  assert.equal(result, `hello coasty from pid ${process.pid}; signal said go`);
});
