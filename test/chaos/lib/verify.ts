// Checks a scenario's outcomes against the emulator's truth: one run per workflow, every event
// counted once, every step billed once, and no secret in any history or worker log.
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalStatus, type Run } from '../../../api/types';
import { historyText } from '../../helpers/agent-run';
import type { ScenarioStack } from './context';
import { workflowIdOfTask, type Outcome, type StartedRun } from './runs';
import type { ChaosRow } from './types';

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** Every run the emulator holds (newest first, all pages). */
export async function listAllRuns(stack: ScenarioStack): Promise<Run[]> {
  const runs: Run[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const list = await stack.api.listRuns({ limit: 100, ...(after ? { after } : {}) });
    runs.push(...list.data);
    if (!list.has_more || list.data.length === 0) break;
    after = list.data[list.data.length - 1]!.id;
  }
  return runs;
}

/** Waits (bounded) until the emulator's runs of these workflows have all ended, so counts are final. */
export async function waitForTerminalRuns(
  stack: ScenarioStack,
  workflowIds: ReadonlySet<string>,
  timeoutMs = 60_000,
): Promise<{ runs: Run[]; open: Run[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = (await listAllRuns(stack)).filter((run) =>
      workflowIds.has(workflowIdOfTask(run.task) ?? ''),
    );
    const open = runs.filter((run) => !isTerminalStatus(run.status));
    if (open.length === 0 || Date.now() > deadline) return { runs, open };
    await sleep(200);
  }
}

export interface VerifyOptions {
  runs: StartedRun[];
  outcomes: Outcome[];
  /** Counters before this batch (several batches may share one emulator). */
  countersBefore?: {
    runs_created: number;
    steps_billed: number;
    faults_injected: number;
    streams_dropped: number;
    responses_lost: number;
  };
}

/** Fills runs, completed, typed errors, lost, duplicated, reconnects and retries of `row`. */
export async function verifyAgainstTruth(stack: ScenarioStack, row: ChaosRow, options: VerifyOptions) {
  const { runs, outcomes } = options;
  const ids = new Set(runs.map((run) => run.workflowId));
  const { runs: truthRuns, open } = await waitForTerminalRuns(stack, ids);
  for (const run of open) row.problems.push(`emulator run ${run.id} still ${run.status} at the end`);
  const byWorkflow = new Map<string, Run[]>();
  for (const run of truthRuns) {
    const id = workflowIdOfTask(run.task)!;
    byWorkflow.set(id, [...(byWorkflow.get(id) ?? []), run]);
  }
  const echoed = truthRuns.filter((run) => run.result?.includes(stack.secret)).length;
  if (echoed > 0) row.notes.push(`secret echoed in ${echoed} results, redacted`);
  const counters = await stack.emulator.admin.counters();
  const before = options.countersBefore ?? {
    runs_created: 0,
    steps_billed: 0,
    faults_injected: 0,
    streams_dropped: 0,
    responses_lost: 0,
  };

  row.runs += runs.length;
  row.faults +=
    counters.faults_injected -
    before.faults_injected +
    counters.streams_dropped -
    before.streams_dropped +
    counters.responses_lost -
    before.responses_lost;

  // One run per workflow, by the task (which names its workflow) and by the emulator's counter.
  let extraRuns = 0;
  for (const [workflowId, created] of byWorkflow) {
    if (created.length > 1) {
      extraRuns += created.length - 1;
      row.problems.push(
        `${workflowId}: ${created.length} runs created (${created.map((r) => r.id).join(', ')})`,
      );
    }
  }
  const createdNow = counters.runs_created - before.runs_created;
  const byCounter = Math.max(0, createdNow - runs.length);
  if (byCounter > extraRuns)
    row.problems.push(`emulator created ${createdNow} runs for ${runs.length} workflows`);
  row.duplicated += Math.max(extraRuns, byCounter);

  // Every step billed once: the billing counter against the runs' own step counts.
  const truthSteps = truthRuns.reduce((sum, run) => sum + run.steps, 0);
  const billed = counters.steps_billed - before.steps_billed;
  if (billed !== truthSteps) {
    row.problems.push(`emulator billed ${billed} steps; its runs took ${truthSteps}`);
    if (billed > truthSteps) row.duplicated += billed - truthSteps;
  }

  await mapLimit(outcomes, 16, async (outcome) => {
    if (outcome.kind === 'lost') {
      row.lost += 1;
      row.problems.push(`${outcome.workflowId}: lost (${outcome.reason})`);
      return;
    }
    if (outcome.kind === 'typed') {
      row.typedErrors += 1;
      return;
    }
    row.completed += 1;
    const { result } = outcome;
    row.reconnects += result.delivery.reconnects;
    row.retries += result.delivery.streamRetries;
    const run = (byWorkflow.get(outcome.workflowId) ?? []).find((r) => r.id === result.runId);
    if (!run) {
      row.lost += 1;
      row.problems.push(
        `${outcome.workflowId}: completed with run ${result.runId}, which the emulator does not list`,
      );
      return;
    }
    const events = await stack.emulator.admin.runEvents(run.id);
    const handled = result.delivery.eventsHandled;
    if (result.delivery.webhook) {
      // Webhook delivery counts the state changes signalled, each once; one lost on the way is
      // made up by reading the run (its steps and status are checked below), so fewer is no loss.
      const changes = events.filter((event) => event.type !== 'step').length;
      if (handled > changes) {
        row.duplicated += handled - changes;
        row.problems.push(`${outcome.workflowId}: counted ${handled} state changes; the run had ${changes}`);
      }
    } else if (handled < events.length) {
      row.lost += events.length - handled;
      row.problems.push(`${outcome.workflowId}: handled ${handled} of the run's ${events.length} events`);
    } else if (handled > events.length) {
      row.duplicated += handled - events.length;
      row.problems.push(`${outcome.workflowId}: handled ${handled} events; the run has ${events.length}`);
    }
    if (result.steps !== run.steps) {
      if (result.steps < run.steps) row.lost += run.steps - result.steps;
      else row.duplicated += result.steps - run.steps;
      row.problems.push(
        `${outcome.workflowId}: counted ${result.steps} steps; the emulator ran ${run.steps}`,
      );
    }
    if (result.status !== run.status) {
      row.lost += 1;
      row.problems.push(`${outcome.workflowId}: ended ${result.status}; the emulator says ${run.status}`);
    }
  });
}

/** Searches every history of `workflowIds` and every worker's output for the API key and the secret. */
export async function scanForLeaks(
  stack: ScenarioStack,
  row: ChaosRow,
  workflowIds: string[],
): Promise<void> {
  const needles: Array<[string, string]> = [
    ['the API key', stack.emulator.apiKey],
    ['the secret', stack.secret],
  ];
  const check = (where: string, text: string) => {
    row.scanned += 1;
    for (const [what, value] of needles) {
      if (text.includes(value)) {
        row.leaks += 1;
        row.problems.push(`${where} holds ${what}`);
      }
    }
  };
  let decoded = 0;
  await mapLimit(workflowIds, 8, async (workflowId) => {
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const text = historyText(history);
    if (text.includes('{{secret.')) decoded += 1;
    check(`history of ${workflowId}`, text);
  });
  // The placeholder must be readable in the histories: proof that payloads were decoded, not hidden.
  if (workflowIds.length > 0 && decoded === 0)
    row.problems.push('no history showed the task placeholder: scan ineffective');
  stack.workers.forEach((worker, i) =>
    check(`output of worker ${i + 1} (pid ${worker.pid})`, worker.output.join('\n')),
  );
}
