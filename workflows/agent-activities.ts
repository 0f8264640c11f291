// The activities agentRun schedules, under the type names of its history (prefixed since
// ACTIVITY_NAMES_PATCH, legacy before), each call with a summary for the Web UI's timeline.
import {
  ActivityCancellationType,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  ACTIVITY_NAMES_PATCH,
  ACTIVITY_TYPE_NAMES,
  LEGACY_ACTIVITY_TYPE_NAMES,
  type ActivityKey,
  type ActivityTypeNames,
} from './names';

type NamedActivities = Record<string, Activities[ActivityKey]>;

// Activities mark 4xx failures non-retryable themselves and carry Retry-After as nextRetryDelay.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };

const control = proxyActivities<NamedActivities>({ startToCloseTimeout: '60s', retry });

// A local activity: the POST goes out while the first workflow task runs, with no activity task for
// the server to schedule, dispatch and record; the run id lands in history as a marker. A retry after
// a crash re-sends the same Idempotency-Key, so it still creates (and bills) one run.
const local = proxyLocalActivities<NamedActivities>({ startToCloseTimeout: '60s', retry });

export interface AgentActivityOptions {
  /** Heartbeat timeout of the stream activity; a dead worker is noticed after it. */
  streamHeartbeatTimeout: Duration;
  /** Where streamRun is scheduled (a dedicated pool of stream workers); default: the workflow's queue. */
  streamTaskQueue?: string;
}

/** Call once per workflow, before the first activity: it decides the names for the whole history. */
export function agentActivities(options: AgentActivityOptions) {
  const names: ActivityTypeNames = patched(ACTIVITY_NAMES_PATCH)
    ? ACTIVITY_TYPE_NAMES
    : LEGACY_ACTIVITY_TYPE_NAMES;
  const stream = proxyActivities<NamedActivities>({
    startToCloseTimeout: '48h',
    heartbeatTimeout: options.streamHeartbeatTimeout,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry,
    ...(options.streamTaskQueue ? { taskQueue: options.streamTaskQueue } : {}),
  });
  const call = <K extends ActivityKey>(
    proxy: ActivityInterfaceFor<NamedActivities> | LocalActivityInterfaceFor<NamedActivities>,
    key: K,
    summary: string,
    input: Parameters<Activities[K]>[0],
  ): ReturnType<Activities[K]> =>
    proxy[names[key]]!.executeWithOptions({ summary } as never, [input] as never) as ReturnType<
      Activities[K]
    >;

  return {
    names,
    createRun: (input: Parameters<Activities['createRun']>[0]) =>
      call(local, 'createRun', `create run on ${input.request.machine_id}`, input),
    streamRun: (input: Parameters<Activities['streamRun']>[0]) =>
      call(stream, 'streamRun', `follow run ${input.runId}`, input),
    resumeRun: (input: Parameters<Activities['resumeRun']>[0]) =>
      call(control, 'resumeRun', `${input.action} run ${input.runId}`, input),
    cancelRun: (input: Parameters<Activities['cancelRun']>[0]) =>
      call(control, 'cancelRun', `cancel run ${input.runId}`, input),
    getRunSummary: (input: Parameters<Activities['getRunSummary']>[0]) =>
      call(control, 'getRunSummary', `read run ${input.runId}`, input),
  };
}

const SUMMARY_TASK_CHARS = 60;

/**
 * One line for the Web UI: the start of a task *template* (never a rendered task, which may quote an
 * agent's result; placeholders such as `{{secret.X}}` stay as they are).
 */
export function summaryText(task: string): string {
  const line = task.replace(/\s+/g, ' ').trim();
  return line.length > SUMMARY_TASK_CHARS ? `${line.slice(0, SUMMARY_TASK_CHARS - 3)}...` : line;
}

/** The staticSummary of a child run: "download: Open the supplier portal...". */
export function childSummary(id: string, taskTemplate: string): string {
  return `${id}: ${summaryText(taskTemplate)}`;
}
