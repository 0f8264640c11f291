// The fleet benchmark's baselines (bench/fleet.ts), what Temporal users write first to follow a
// run of the runs API, beside agentRun's stream and webhook modes:
// - pollingRun: ONE activity creates the run, then polls GET /v1/runs/{id} every 2 s while it
//   heartbeats, and returns at a pause or at the end (a pause: the workflow waits for the decision,
//   and the same activity resumes the run and polls on);
// - listenedRun: an activity creates the run and hands it to an external SSE listener
//   (bench/fleet-listener-main.ts), which signals every event of the run into this workflow; the
//   workflow waits for the terminal event (a pause: it waits for the decision and resumes the run).
// Both answer the same `progress` query (status, steps) and `decide` update as agentRun, so that
// bench/fleet.ts watches and decides every mode alike.
import {
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CreateRunRequest, RunEvent, RunStatus } from '../../api/types';
import { decideUpdate, type HumanDecision } from '../../workflows/messages';

export interface FleetRunInput {
  request: CreateRunRequest;
}

export interface FleetRunResult {
  runId: string;
  status: RunStatus;
  steps: number;
}

export interface FleetProgress {
  status: string;
  runId?: string;
  steps: number;
}

export interface PollRunInput {
  request: CreateRunRequest;
  idempotencyKey: string;
  /** Known after the first call: poll this run instead of creating one. */
  runId?: string;
  /** Resume the paused run with this decision before polling on. */
  resume?: HumanDecision['action'];
  /** Which pause this resume answers (its idempotency key). */
  pause?: number;
}

export interface ListenedCreateInput {
  request: CreateRunRequest;
  idempotencyKey: string;
  workflowId: string;
}

export interface ResumeInput {
  runId: string;
  action: HumanDecision['action'];
  idempotencyKey: string;
}

/** The baselines' activities (bench/fleet-activities.ts registers them on a plain SDK worker). */
export interface FleetActivities {
  fleetPollRun(input: PollRunInput): Promise<FleetRunResult>;
  fleetCreateListenedRun(input: ListenedCreateInput): Promise<string>;
  fleetResumeRun(input: ResumeInput): Promise<void>;
}

export const fleetProgressQuery = defineQuery<FleetProgress>('progress');
/** One event of the run's stream, as the listener received it. */
export const runEventSignal = defineSignal<[RunEvent]>('runEvent');

const TERMINAL: readonly string[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

/** A pause as both baselines keep it: open until one decision arrives. */
function pauseHandlers(state: { status: string; steps: number; runId?: string }) {
  let open = false;
  let decision: HumanDecision | undefined;
  setHandler(fleetProgressQuery, () => ({ status: state.status, runId: state.runId, steps: state.steps }));
  setHandler(
    decideUpdate,
    (d: HumanDecision) => {
      decision = d;
      open = false;
      return { requestId: d.requestId ?? 'pause', accepted: true };
    },
    {
      validator: (d: HumanDecision) => {
        if (!open) throw new Error(`not waiting for a person (status ${state.status}): ${d.action} refused`);
      },
    },
  );
  return {
    async decided(): Promise<HumanDecision> {
      open = true;
      await condition(() => decision !== undefined);
      const d = decision!;
      decision = undefined;
      return d;
    },
  };
}

export async function pollingRun(input: FleetRunInput): Promise<FleetRunResult> {
  const { fleetPollRun } = proxyActivities<FleetActivities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: '30s',
  });
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const state: { status: string; steps: number; runId?: string } = { status: 'creating', steps: 0 };
  const pauses = pauseHandlers(state);
  let resume: HumanDecision['action'] | undefined;
  for (let pause = 0; ; pause++) {
    const r = await fleetPollRun({
      request: input.request,
      idempotencyKey: `${workflowId}/${firstExecutionRunId}`,
      runId: state.runId,
      resume,
      pause,
    });
    Object.assign(state, r);
    if (r.status !== 'awaiting_human') return r;
    resume = (await pauses.decided()).action;
    state.status = 'running';
  }
}

export async function listenedRun(input: FleetRunInput): Promise<FleetRunResult> {
  const { fleetCreateListenedRun, fleetResumeRun } = proxyActivities<FleetActivities>({
    startToCloseTimeout: '1m',
  });
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const state: { status: string; steps: number; runId?: string } = { status: 'creating', steps: 0 };
  const pauses = pauseHandlers(state);
  const seen = new Set<string>();
  let pausedAt: string | undefined;
  setHandler(runEventSignal, (event: RunEvent) => {
    if (seen.has(event.id) || (state.runId !== undefined && event.run_id !== state.runId)) return;
    seen.add(event.id);
    if (event.type === 'step') state.steps += 1;
    if (!TERMINAL.includes(state.status)) state.status = event.status;
    if (event.type === 'awaiting_human') pausedAt = event.id;
  });
  const key = `${workflowId}/${firstExecutionRunId}`;
  state.runId = await fleetCreateListenedRun({ request: input.request, idempotencyKey: key, workflowId });
  for (;;) {
    await condition(() => TERMINAL.includes(state.status) || pausedAt !== undefined);
    if (TERMINAL.includes(state.status))
      return { runId: state.runId, status: state.status as RunStatus, steps: state.steps };
    const pause = pausedAt!;
    const { action } = await pauses.decided();
    await fleetResumeRun({ runId: state.runId, action, idempotencyKey: `${key}/${pause}` });
    pausedAt = undefined;
  }
}
