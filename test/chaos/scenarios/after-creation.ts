// Scenario 7: faults after a run was created, where the promise used to break (audit 2026-12): a
// stream that fails for good, a decision the API refuses (4xx on resume), a cancel while the stream's
// worker is dead, a batch started again while its earlier children still cancel their runs, the API
// key rotated while every run is in flight (the old key refused, workers redeployed with the new one). The runs
// wait for a person or never end by themselves ([forever]), so every fault lands on a live run by
// construction. Whatever happens to the workflows, every run must end terminal at the API: 0
// orphaned, and no retry billing beside a live run.
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { isTerminalStatus, type Run } from '../../../api/types';
import { decideUpdate, progressQuery, type AgentRunProgress } from '../../../workflows/messages';
import { runBatch } from '../../../workflows/run-batch';
import { batch } from '../../batch/specs';
import { waitUntil } from '../../helpers/wait';
import { startScenarioStack, type ChaosContext, type ScenarioStack } from '../lib/context';
import { settleAll, startRuns, workflowIdOfTask, type StartedRun } from '../lib/runs';
import { emptyRow, type ChaosRow } from '../lib/types';
import { listAllRuns, scanForLeaks, verifyAgainstTruth } from '../lib/verify';

const FOREVER = { steps: 50_000, paceMs: 20, extra: '[forever]' };

/** Runs of these workflows that are still live at the API, after waiting (bounded) for cleanups. */
async function orphans(stack: ScenarioStack, match: (run: Run) => boolean): Promise<Run[]> {
  let open: Run[] = [];
  await waitUntil(
    'every run to end at the API',
    async () => {
      open = (await listAllRuns(stack)).filter((run) => match(run) && !isTerminalStatus(run.status));
      return open.length === 0 || undefined;
    },
    60_000,
    250,
  ).catch(() => undefined);
  return open;
}

function ofWorkflows(runs: StartedRun[]): (run: Run) => boolean {
  const ids = new Set(runs.map((run) => run.workflowId));
  return (run) => ids.has(workflowIdOfTask(run.task) ?? '');
}

async function streamFailsForGood(ctx: ChaosContext, stack: ScenarioStack): Promise<ChaosRow> {
  const row = emptyRow('after creation: stream fails for good');
  const started = Date.now();
  await stack.emulator.admin.setFaults({ stream: { malformed: 'non_json_data' } });
  const runs = await startRuns(stack, { n: ctx.n, prefix: 'broken', shape: FOREVER });
  const outcomes = await settleAll(stack, runs, 120_000);
  await stack.emulator.admin.clearFaults();
  row.runs = runs.length;
  for (const outcome of outcomes) {
    if (outcome.kind === 'typed' && outcome.type === 'CoastyStreamProtocol') row.typedErrors += 1;
    else
      row.problems.push(
        `${outcome.workflowId} ended ${outcome.kind === 'typed' ? outcome.type : outcome.kind}, not with CoastyStreamProtocol`,
      );
  }
  const open = await orphans(stack, ofWorkflows(runs));
  row.lost += open.length;
  if (open.length)
    row.problems.push(`${open.length} run(s) left billing, e.g. ${open[0]!.id} ${open[0]!.status}`);
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  await scanForLeaks(
    stack,
    row,
    runs.map((run) => run.workflowId),
  );
  return row;
}

async function resumeRefused(ctx: ChaosContext, stack: ScenarioStack): Promise<ChaosRow> {
  const row = emptyRow('after creation: the API refuses the decision (4xx on resume)');
  const started = Date.now();
  const runs = await startRuns(stack, {
    n: ctx.n,
    prefix: 'refused',
    shape: { steps: 3, paceMs: 5, extra: '[human@1]' },
  });
  const pauses = await Promise.all(
    runs.map((run) =>
      waitUntil(
        'the run to wait for a person',
        async () => {
          const progress = (await run.handle.query(progressQuery)) as AgentRunProgress;
          return progress.awaiting?.requestId;
        },
        120_000,
        250,
      ),
    ),
  );
  await stack.emulator.admin.setFaults({ errors: [{ status: 400, rate: 1, endpoints: ['resume'] }] });
  await Promise.all(
    runs.map((run, i) =>
      run.handle.executeUpdate(decideUpdate, {
        args: [{ action: 'approve', by: 'chaos', requestId: pauses[i]! }],
      }),
    ),
  );
  const outcomes = await settleAll(stack, runs, 120_000);
  await stack.emulator.admin.clearFaults();
  row.runs = runs.length;
  for (const outcome of outcomes) {
    if (outcome.kind === 'typed' && outcome.type === 'CoastyInvalidRequest') row.typedErrors += 1;
    else
      row.problems.push(
        `${outcome.workflowId} ended ${outcome.kind === 'typed' ? outcome.type : outcome.kind}, not with CoastyInvalidRequest`,
      );
  }
  const open = await orphans(stack, ofWorkflows(runs));
  row.lost += open.length;
  if (open.length) row.problems.push(`${open.length} paused run(s) left holding their machines`);
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  return row;
}

async function cancelWithDeadWorker(ctx: ChaosContext, stack: ScenarioStack): Promise<ChaosRow> {
  const row = emptyRow('after creation: cancel while the stream worker is dead');
  const started = Date.now();
  const runs = await startRuns(stack, {
    n: ctx.n,
    prefix: 'dead',
    shape: FOREVER,
    input: { streamHeartbeatTimeout: '5s' },
  });
  // [forever] runs never end by themselves: wait until the doomed worker follows every one.
  await waitUntil(
    'the worker to follow every run',
    async () => (await stack.emulator.admin.counters()).open_streams >= runs.length || undefined,
    120_000,
    150,
  );
  for (const worker of stack.workers) if (worker.alive()) await worker.kill();
  await stack.spawnWorker();
  await Promise.all(runs.map((run) => run.handle.cancel()));
  row.runs = runs.length;
  await Promise.all(
    runs.map(async (run) => {
      const error = await run.handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure) row.completed += 1;
      else row.problems.push(`${run.workflowId} did not end cancelled: ${String(error ?? 'it succeeded')}`);
    }),
  );
  const open = await orphans(stack, ofWorkflows(runs));
  row.lost += open.length;
  if (open.length) row.problems.push(`${open.length} run(s) left billing after the cancel`);
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  return row;
}

async function batchRerunOverLeftovers(ctx: ChaosContext, stack: ScenarioStack): Promise<ChaosRow> {
  const row = emptyRow('after creation: batch re-run over leftover children');
  const started = Date.now();
  const workflowId = `${stack.taskQueue}-rerun`;
  const n = Math.min(ctx.n, 20);
  const machines = stack.emulator.machines.slice(0, n);
  const start = (taskTemplate: string) =>
    stack.client.workflow.start(runBatch, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [batch(n, { concurrency: n, machines, taskTemplate })],
    });
  const first = await start('Check {{item.id}} (chaos rerun) [steps=2] [human@1]');
  const items = Array.from({ length: n }, (_, i) =>
    stack.client.workflow.getHandle(`${workflowId}/inv-${String(i + 1).padStart(3, '0')}`),
  );
  await waitUntil(
    'every item to wait for a person',
    async () => {
      const states = await Promise.all(
        items.map((item) =>
          item
            .query(progressQuery)
            .then((p) => (p as AgentRunProgress).status)
            .catch(() => undefined),
        ),
      );
      return states.every((state) => state === 'awaiting_human') || undefined;
    },
    120_000,
    250,
  );
  await stack.emulator.admin.setFaults({
    errors: [{ status: 503, rate: 1, retryAfterSeconds: 1, endpoints: ['cancel'] }],
  });
  await first.terminate('chaos: the operator restarts the batch');
  const again = await start('Check {{item.id}} again (chaos rerun) [steps=1]');
  await waitUntil(
    'the re-run to probe every leftover',
    async () =>
      (await again.fetchHistory()).events!.filter(
        (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes,
      ).length >= n || undefined,
    120_000,
    250,
  );
  await stack.emulator.admin.clearFaults();
  const result = await again.result();
  row.runs = n;
  row.completed = result.succeeded;
  if (result.succeeded !== n || result.skipped !== 0) {
    row.problems.push(`re-run: ${result.succeeded} succeeded, ${result.skipped} skipped of ${n}`);
  }
  const all = (await listAllRuns(stack)).filter((run) => run.task.includes('(chaos rerun)'));
  if (all.length !== 2 * n) row.duplicated += Math.max(0, all.length - 2 * n);
  const open = await orphans(stack, (run) => run.task.includes('(chaos rerun)'));
  row.lost += open.length;
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  return row;
}

/**
 * Every run is held mid-stream when the key is rotated: the old key's streams are cut, its reconnects
 * are refused (401), and the runs go on at the API while nobody follows them. The refused key does
 * not end a workflow (its run would go on billing, unfollowed); once a worker with the new key takes
 * over, each run is followed to its end from its cursor: every event once, every step billed once.
 */
async function rotatedKey(ctx: ChaosContext, stack: ScenarioStack): Promise<ChaosRow> {
  const row = emptyRow('after creation: the API key is rotated mid-run');
  const started = Date.now();
  const oldKey = stack.emulator.apiKey;
  const newKey = `emu_rotated_${randomBytes(12).toString('hex')}`;
  const before = await stack.emulator.admin.counters();
  const runs = await startRuns(stack, {
    n: ctx.n,
    prefix: 'rotated',
    shape: { steps: 4, paceMs: 5, extra: '[hold@3]' },
    input: { streamHeartbeatTimeout: '5s' },
  });
  const rotating = (task: string) => runs.some((run) => task.includes(`(chaos ${run.workflowId})`));
  await stack.emulator.admin.waitForHolds(
    'every run held at step 3 with its stream open',
    (held) => held.filter((h) => rotating(h.task) && h.open_streams > 0).length === runs.length,
    120_000,
  );
  const { streams_closed } = await stack.emulator.admin.setApiKeys([newKey]);
  if (streams_closed < runs.length)
    row.problems.push(`the rotation cut ${streams_closed} streams, not ${runs.length}`);
  await stack.emulator.admin.release();
  await waitUntil(
    'the old key to be refused on every reconnect',
    async () =>
      (await stack.emulator.admin.counters()).unauthorized - before.unauthorized >= runs.length || undefined,
    120_000,
    150,
  );
  const old = stack.workers.filter((worker) => worker.alive());
  await stack.spawnWorker({ apiKey: newKey });
  for (const worker of old) await worker.kill();
  const outcomes = await settleAll(stack, runs, 180_000);
  await stack.emulator.admin.setApiKeys([oldKey, newKey]); // the checks below read with the old key
  await verifyAgainstTruth(stack, row, { runs, outcomes, countersBefore: before });
  for (const outcome of outcomes)
    if (outcome.kind === 'typed') row.problems.push(`${outcome.workflowId} failed: ${outcome.type}`);
  const refused = (await stack.emulator.admin.counters()).unauthorized - before.unauthorized;
  row.notes.push(`${refused} requests refused with the old key`);
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  return row;
}

export async function faultsAfterCreation(ctx: ChaosContext): Promise<ChaosRow[]> {
  const stack = await startScenarioStack(ctx, { label: 'after-creation' });
  const rows: ChaosRow[] = [];
  for (const phase of [
    streamFailsForGood,
    resumeRefused,
    cancelWithDeadWorker,
    batchRerunOverLeftovers,
    rotatedKey,
  ]) {
    const row = await phase(ctx, stack);
    ctx.log(
      `${row.scenario}: ${row.runs} runs, ${row.completed} completed, ${row.typedErrors} typed, ` +
        `${row.lost} orphaned or lost, ${row.duplicated} duplicated, ${row.seconds} s` +
        (row.problems.length ? `; ${row.problems.slice(0, 3).join('; ')}` : ''),
    );
    rows.push(row);
  }
  return rows;
}
