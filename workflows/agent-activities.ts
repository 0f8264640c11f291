// The activities agentRun schedules, under the type names of its history (prefixed since
// ACTIVITY_NAMES_PATCH, legacy before), each call with a summary for the Web UI's timeline.
import {
  ActivityCancellationType,
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { CreatedRun, CreateRunInput } from '../activities/types';
import {
  ACTIVITY_TYPE_NAMES,
  LEGACY_ACTIVITY_TYPE_NAMES,
  type ActivityKey,
  type ActivityTypeNames,
} from './names';
import { oneLine } from '../core/text';
import { PATCHES } from './patches';

type NamedActivities = Record<string, Activities[ActivityKey]>;

// Activities mark 4xx failures non-retryable themselves and carry Retry-After as nextRetryDelay.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };

const control = proxyActivities<NamedActivities>({ startToCloseTimeout: '60s', retry });

// Local activities (createRun; the reads of webhook delivery): the request goes out while the workflow
// task runs, with no activity task for the server to schedule, dispatch and record; the answer lands in
// history as a marker. A createRun retried after a crash re-sends the same Idempotency-Key, so it still
// creates (and bills) one run. Bounded below the workflow task timeout: a local activity retrying
// longer makes the SDK complete a workflow task every 8 s as a heartbeat (3 history events each), for
// as long as the API is down.
const local = proxyLocalActivities<NamedActivities>({
  startToCloseTimeout: '5s',
  // Core does not end a retrying local activity at its scheduleToCloseTimeout: the attempts bound it.
  scheduleToCloseTimeout: '5s',
  retry: { ...retry, maximumAttempts: 3 },
});

export interface AgentActivityOptions {
  /** Heartbeat timeout of the stream activity; a dead worker is noticed after it. */
  streamHeartbeatTimeout: Duration;
  /** Where streamRun is scheduled (a dedicated pool of stream workers); default: the workflow's queue. */
  streamTaskQueue?: string;
}

/** Call once per workflow, before the first activity: it decides the names for the whole history. */
export function agentActivities(options: AgentActivityOptions) {
  const names: ActivityTypeNames = patched(PATCHES.prefixedActivityNames)
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

  /** Locally first (inside the workflow task), then, after 3 failed attempts, as a normal activity. */
  async function locallyFirst<K extends 'createRun' | 'getRunSummary'>(
    key: K,
    summary: string,
    input: Parameters<Activities[K]>[0],
  ): Promise<Awaited<ReturnType<Activities[K]>>> {
    try {
      return (await call(local, key, summary, input)) as Awaited<ReturnType<Activities[K]>>;
    } catch (error) {
      if (error instanceof ApplicationFailure && error.nonRetryable) throw error;
      log.warn(
        `${key} did not succeed locally in 3 attempts, retrying as an activity: ${(error as Error).message}`,
      );
      return (await call(control, key, summary, input)) as Awaited<ReturnType<Activities[K]>>;
    }
  }

  return {
    names,
    /** Creates the run exactly once: locally first, then as a normal activity (whose retries add no history), same key. */
    createRun: (input: CreateRunInput): Promise<CreatedRun> =>
      locallyFirst('createRun', `create run on ${input.request.machine_id}`, input),
    streamRun: (input: Parameters<Activities['streamRun']>[0]) =>
      call(stream, 'streamRun', `follow run ${input.runId}`, input),
    resumeRun: (input: Parameters<Activities['resumeRun']>[0]) =>
      call(control, 'resumeRun', `${input.action} run ${input.runId}`, input),
    cancelRun: (input: Parameters<Activities['cancelRun']>[0]) =>
      call(control, 'cancelRun', `cancel run ${input.runId}`, input),
    getRunSummary: (input: Parameters<Activities['getRunSummary']>[0]) =>
      call(control, 'getRunSummary', `read run ${input.runId}`, input),
    /**
     * The same read inside the workflow task that wants it (webhook delivery, since
     * PATCHES.webhookReadsInTask): no activity task to schedule and answer, and no second workflow
     * task to learn the answer; the run object lands in history as a marker.
     */
    readRunInTask: (input: Parameters<Activities['getRunSummary']>[0]) =>
      locallyFirst('getRunSummary', `read run ${input.runId}`, input),
  };
}

export type AgentActivities = ReturnType<typeof agentActivities>;

const SUMMARY_TASK_CHARS = 60;

/**
 * One line for the Web UI: the start of a task *template* (never a rendered task, which may quote an
 * agent's result; placeholders such as `{{secret.X}}` stay as they are).
 */
export function summaryText(task: string): string {
  const line = oneLine(task);
  return line.length > SUMMARY_TASK_CHARS ? `${line.slice(0, SUMMARY_TASK_CHARS - 3)}...` : line;
}

/** The staticSummary of a child run: "download: Open the supplier portal...". */
export function childSummary(id: string, taskTemplate: string): string {
  return `${id}: ${summaryText(taskTemplate)}`;
}
