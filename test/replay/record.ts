// Records the replay fixtures (test/replay/histories/*.json) from real runs: the real dev server, the
// emulator and a worker of the code as it is now. Run it only at a commit whose workflows you want to
// keep replaying (`node --import tsx test/replay/record.ts`); test/replay/replay.test.ts replays every
// fixture with the current workflow code, so a command-changing edit without `patched` fails CI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { RunsClient } from '../../api/runs-client';
import { startDevServer } from '../../dev/dev-server';
import { startEmulator } from '../../emulator';
import { startWebhookServer } from '../../serve/webhooks/server';
import { createWorker } from '../../worker';
import { agentRun } from '../../workflows/agent-run';
import { decideUpdate, progressQuery, type AgentRunProgress } from '../../workflows/messages';
import { runBatch } from '../../workflows/run-batch';
import { runChain } from '../../workflows/run-chain';
import { batch } from '../batch/specs';
import { agent, chain, gate } from '../chain/specs';
import { waitUntil } from '../helpers/wait';

const OUT = new URL('./histories/', import.meta.url);
const label = process.argv[2] ?? 'v1';
// `record.ts v2 agent-run-webhook`: only the named scenarios (comma-separated), under that label.
const only = process.argv[3]?.split(',');
const wanted = (name: string) => !only || only.includes(name);

const server = await startDevServer({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 100 } });
const emulator = await startEmulator({ config: { machines: 4, agent: { paceMs: 2 } } });
const runs = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
const native = await NativeConnection.connect({ address: server.address });
const taskQueue = 'replay-fixtures';
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const receiver = await startWebhookServer({ client, secret: emulator.webhookSecret, port: 0 });
const worker = await createWorker({
  connection: native,
  taskQueue,
  client: runs,
  env: {},
  coasty: { webhook: { url: receiver.url, secret: emulator.webhookSecret } },
});
const running = worker.run();

const manifestUrl = new URL('workflow-ids.json', OUT);
const manifest: Record<string, string> = existsSync(manifestUrl)
  ? JSON.parse(readFileSync(manifestUrl, 'utf8'))
  : {};

async function save(name: string, handle: WorkflowHandle): Promise<void> {
  // The CLI writes the JSON every Temporal tool reads (the SDK's historyToJSON trips on two protobufjs copies under tsx).
  const { runId } = await handle.describe();
  const json = execFileSync(server.cli.path, [
    'workflow',
    'show',
    '--address',
    server.address,
    '--workflow-id',
    handle.workflowId,
    '--run-id',
    runId,
    '--output',
    'json',
  ]);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(new URL(`${label}-${name}.json`, OUT), json);
  manifest[`${label}-${name}.json`] = handle.workflowId;
  writeFileSync(new URL('workflow-ids.json', OUT), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`${label}-${name}.json: ${JSON.parse(json.toString()).events.length} events`);
}

async function approveWhenPaused(handle: WorkflowHandle, by: string): Promise<void> {
  const progress = await waitUntil('a pause', async () => {
    const p = (await handle.query(progressQuery)) as AgentRunProgress;
    return p.status === 'awaiting_human' && p.awaiting ? p : undefined;
  });
  await handle.executeUpdate(decideUpdate, {
    args: [{ action: 'approve', by, requestId: progress.awaiting!.requestId }],
  });
}

try {
  // agentRun with a pause, approved.
  if (wanted('agent-run-pause')) await agentRunPause();
  if (wanted('chain-gate-retry')) await chainGateRetry();
  if (wanted('batch')) await batchAcrossContinueAsNew();
  if (wanted('agent-run-protocol-error')) await agentRunProtocolError();
  if (wanted('chain-cancelled')) await chainCancelled();
  if (wanted('agent-run-webhook')) await agentRunWebhook();
} finally {
  worker.shutdown();
  await running;
  await receiver.stop();
  await connection.close();
  await native.close();
  await runs.close();
  await emulator.stop();
  await server.stop();
}

async function agentRunPause() {
  const paused = await client.workflow.start(agentRun, {
    taskQueue,
    workflowId: 'fixture-agent-run-pause',
    args: [{ request: { machine_id: 'm-1', task: 'Pay the invoice [steps=3] [human@2]', max_steps: 10 } }],
  });
  await approveWhenPaused(paused, 'alice');
  await paused.result();
  await save('agent-run-pause', paused);
}

/** A chain with a gate and a retried step (it fails twice: the retry is a new run). */
async function chainGateRetry() {
  const gated = await client.workflow.start(runChain, {
    taskQueue,
    workflowId: 'fixture-chain-gate-retry',
    args: [
      chain([
        agent('read', 'Read the invoice [steps=2]'),
        gate('review', 'Pay it? {{steps.read.result}}'),
        agent('pay', 'Pay [steps=3] [fail@2]', { onFailure: { policy: 'retry', maxRetries: 1 } }),
      ]),
    ],
  });
  await waitUntil('the gate', async () => {
    const p = (await gated.query(progressQuery)) as { awaiting?: { requestId: string } };
    return p.awaiting?.requestId === 'review' || undefined;
  });
  await gated.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'bob', requestId: 'review' }] });
  await gated.result();
  await save('chain-gate-retry', gated);
}

/** A batch across continue-as-new (this server suggests it at 100 events), then run again. */
async function batchAcrossContinueAsNew() {
  const batched = await client.workflow.start(runBatch, {
    taskQueue,
    workflowId: 'fixture-batch-can',
    args: [batch(60, { concurrency: 4 })],
  });
  await batched.result();
  const first = client.workflow.getHandle('fixture-batch-can', batched.firstExecutionRunId);
  await save('batch-can-first', first);
  await save('batch-can-last', client.workflow.getHandle('fixture-batch-can'));
  await save('batch-item', client.workflow.getHandle('fixture-batch-can/inv-001'));
  // The same batch id again: every item succeeded before and is skipped.
  const rerun = await client.workflow.start(runBatch, {
    taskQueue,
    workflowId: 'fixture-batch-can',
    args: [batch(3, { concurrency: 2 })],
  });
  await rerun.result();
  await save('batch-rerun-skipped', rerun);
}

/** agentRun failing after its run was created: a malformed stream (non-retryable protocol error). */
async function agentRunProtocolError() {
  await emulator.admin.setFaults({ stream: { malformed: 'non_json_data' } });
  const broken = await client.workflow.start(agentRun, {
    taskQueue,
    workflowId: 'fixture-agent-run-protocol-error',
    args: [{ request: { machine_id: 'm-2', task: 'Read it [steps=400] [pace=20]', max_steps: 500 } }],
  });
  await broken.result().catch(() => undefined);
  await emulator.admin.clearFaults();
  await save('agent-run-protocol-error', broken);
}

/** A chain cancelled while its step waits for a person. */
async function chainCancelled() {
  const cancelled = await client.workflow.start(runChain, {
    taskQueue,
    workflowId: 'fixture-chain-cancelled',
    args: [chain([agent('ask', 'Ask first [steps=3] [human@1]')])],
  });
  const child = client.workflow.getHandle('fixture-chain-cancelled/ask');
  await waitUntil('the child pause', async () => {
    const p = (await child.query(progressQuery).catch(() => undefined)) as AgentRunProgress | undefined;
    return p?.status === 'awaiting_human' || undefined;
  });
  await cancelled.cancel();
  await cancelled.result().catch(() => undefined);
  await save('chain-cancelled', cancelled);
  await save('chain-cancelled-child', child);
}

/** agentRun with webhook delivery: signals, reads of the run, a pause approved. */
async function agentRunWebhook() {
  const hooked = await client.workflow.start(agentRun, {
    taskQueue,
    workflowId: 'fixture-agent-run-webhook',
    args: [
      {
        request: { machine_id: 'm-3', task: 'Pay the invoice [steps=4] [human@2]', max_steps: 10 },
        delivery: 'webhook',
      },
    ],
  });
  await approveWhenPaused(hooked, 'carol');
  await hooked.result();
  await save('agent-run-webhook', hooked);
}
