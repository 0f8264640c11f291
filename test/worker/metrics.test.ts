// `coasty-temporal worker --metrics-port` (here COASTY_METRICS_PORT): after a chain with a pause and a
// batch of 20 items on the emulator, one scrape of the worker's Prometheus endpoint holds the SDK's
// own metrics and ours, and ours equal the emulator's own counters: runs created, steps billed, cost;
// while the chain waits for a person, the in-flight gauges say so (one awaiting_human, none running).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../dev/ports';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { progressQuery, type AgentRunProgress } from '../../workflows/messages';
import { runBatch } from '../../workflows/run-batch';
import { runChain } from '../../workflows/run-chain';
import { batch } from '../batch/specs';
import { agent, chain } from '../chain/specs';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const SECRET = 'metrics-secret-value-7f3a9c';
let stack: TestStack;
let worker: WorkerProcess;
let metricsUrl = '';

before(async () => {
  stack = await startStack({ label: 'metrics', worker: false });
  const port = await freePort();
  worker = await spawnWorker({
    taskQueue: stack.taskQueue,
    baseUrl: stack.emulator.baseUrl,
    apiKey: stack.emulator.apiKey,
    // The gauges read every 0.5 s instead of 10: the test waits for reads, not for the default pace.
    env: {
      COASTY_METRICS_PORT: String(port),
      COASTY_SECRET_PORTAL: SECRET,
      COASTY_IN_FLIGHT_INTERVAL_MS: '500',
    },
    cli: true,
  });
  metricsUrl = worker.output.find((line) => line.startsWith('Metrics: '))!.slice('Metrics: '.length);
});
after(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await stack?.stop();
});

const scrape = async () => (await fetch(metricsUrl)).text();

/** Sums a metric's samples whose labels include `labels` (every sample without a filter). */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => given.includes(`${key}="${value}"`)))
      total += Number(match[3]);
  }
  return total;
}

test('one scrape: the SDK metrics and ours, equal to the emulator counters after a chain with a pause and a batch of 20', async () => {
  const chainHandle = await stack.env.client.workflow.start(runChain, {
    taskQueue: stack.taskQueue,
    workflowId: `metrics-chain-${process.pid}`,
    args: [
      chain([
        agent('login', 'Log in with {{secret.PORTAL}} [steps=2]'),
        agent('pay', 'Pay invoice INV-9 [steps=3] [human@2]'),
      ]),
    ],
  });
  // The step's run waits on the step's own workflow (<chain id>/pay); the decision goes there.
  const step = stack.env.client.workflow.getHandle(`${chainHandle.workflowId}/pay`);
  await waitUntil('the chain step to pause', async () => {
    const progress = (await step.query(progressQuery).catch(() => undefined)) as AgentRunProgress | undefined;
    return progress?.awaiting ? true : undefined;
  });
  // The gauges are read from visibility on a timer: wait for a read after the pause.
  const paused = await waitUntil('the gauges to show the run waiting for a person', async () => {
    const body = await scrape();
    const waiting = sum(body, 'coasty_runs_in_flight', { status: 'awaiting_human' });
    return waiting === 1 && sum(body, 'coasty_oldest_approval_wait_seconds') > 0 ? body : undefined;
  });
  assert.equal(sum(paused, 'coasty_runs_in_flight', { status: 'running' }), 0, 'the first step is over');
  assert.ok(sum(paused, 'coasty_oldest_approval_wait_seconds') < 60, 'it waits since its pause, not longer');
  await step.executeUpdate('decide', { args: [{ action: 'approve', by: 'ann' }] });
  assert.equal((await chainHandle.result()).status, 'succeeded');
  const batchHandle = await stack.env.client.workflow.start(runBatch, {
    taskQueue: stack.taskQueue,
    workflowId: `metrics-batch-${process.pid}`,
    args: [batch(20, { taskTemplate: 'Verify invoice {{item.id}} [steps=2]' })],
  });
  await batchHandle.result();

  const counters = await new EmulatorAdmin(stack.emulator.url, stack.emulator.adminKey).counters();
  // Metrics are exported on a schedule: wait until the scrape has caught up with the last run.
  const text = await waitUntil('the scrape to show every run finished, none in flight', async () => {
    const body = await scrape();
    const inFlight = sum(body, 'coasty_runs_in_flight') + sum(body, 'coasty_oldest_approval_wait_seconds');
    return sum(body, 'coasty_runs_finished_total') === counters.runs_created && inFlight === 0
      ? body
      : undefined;
  });
  assert.equal(counters.runs_created, 22);
  assert.equal(sum(text, 'coasty_runs_created_total'), counters.runs_created);
  assert.equal(sum(text, 'coasty_runs_finished_total', { status: 'succeeded' }), 22);
  assert.equal(sum(text, 'coasty_agent_steps_billed_total'), counters.steps_billed);
  assert.equal(sum(text, 'coasty_cost_cents_total'), Math.round(counters.cost_usd_billed * 100));
  assert.equal(sum(text, 'coasty_decisions_total', { decision: 'approve' }), 1);
  assert.equal(sum(text, 'coasty_approval_wait_seconds_count'), 1, 'one observation per decision');
  assert.match(text, /coasty_approval_wait_seconds_bucket\{[^}]*le="3600"/, 'buckets sized for people');
  assert.ok(sum(text, 'temporal_workflow_completed_total') >= 23, "the SDK's own worker metrics are there");
  assert.match(text, /taskQueue="test-metrics-/);
  // Labels are bounded: no run id, no workflow id, no task text, no secret.
  assert.doesNotMatch(text, /run_[0-9a-f]{8}/);
  assert.ok(!text.includes('metrics-chain-'), 'no workflow id');
  assert.ok(!text.includes('INV-9') && !text.includes('Verify invoice'), 'no task text');
  assert.ok(!text.includes(SECRET) && !text.includes(stack.emulator.apiKey), 'no secret, no API key');
});
