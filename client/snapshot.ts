// One picture of a process (agentRun, chain or batch) for the live view, `status` and approvals:
// the workflow's own progress (query), its Temporal state (describe), and for each run in flight the
// stream activity's heartbeat (live steps, cost and the agent's last action; no API key needed).
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import type { StreamCursor } from '../activities/types';
import type { RunsClient } from '../api/runs-client';
import { centsToUsd, usdToCents } from '../core/money';
import { decodeHeartbeatCursor } from './heartbeat-cursor';
import type { StepAction } from '../api/types';
import {
  progressQuery,
  type AgentRunProgress,
  type BatchProgress,
  type BudgetWait,
  type ChainProgress,
  type ChainStepProgress,
} from '../workflows/messages';
import { isStreamActivityType, WORKFLOW_TYPE_NAMES } from '../workflows/names';
import type { Pause } from './pause';
import { ProcessNotFound } from './process-errors';

export type ProcessKind = 'agentRun' | 'chain' | 'batch' | 'unknown';

export const WORKFLOW_TYPES: Record<string, ProcessKind> = {
  [WORKFLOW_TYPE_NAMES.agentRun]: 'agentRun',
  [WORKFLOW_TYPE_NAMES.batchItem]: 'agentRun',
  [WORKFLOW_TYPE_NAMES.runChain]: 'chain',
  [WORKFLOW_TYPE_NAMES.runBatch]: 'batch',
};

export type { Pause } from './pause';

/** A line of the view: a chain step, a batch item in flight, or a single run. */
export interface LineView {
  id: string;
  type: 'agent' | 'approval';
  state: string;
  workflowId?: string;
  /** The runs API's id of the run, once created. */
  runId?: string;
  machineId?: string;
  steps: number;
  maxSteps?: number;
  costUsd: number;
  action?: StepAction;
  attempts?: number;
  startedAt?: string;
  closedAt?: string;
  question?: string;
  result?: string | null;
  error?: { type: string; message: string } | null;
}

export interface BatchCounts {
  total: number;
  done: number;
  failed: number;
  running: number;
  pending: number;
  paused: boolean;
  generation: number;
}

export interface Snapshot {
  workflowId: string;
  runId: string;
  workflowType: string;
  kind: ProcessKind;
  name: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
  execution: WorkflowExecutionStatusName;
  /** The process's own status (its progress query), else the execution status in lower case. */
  status: string;
  taskQueue: string;
  startedAt: string;
  closedAt?: string;
  costUsd: number;
  maxCostUsd?: number;
  /** Chain steps, the single run of an agentRun, or the batch items in flight. */
  lines: LineView[];
  batch?: BatchCounts;
  pauses: Pause[];
  budget?: BudgetWait;
  /** Why the progress query failed (no worker polls the task queue?). */
  progressError?: string;
}

export function isClosed(execution: WorkflowExecutionStatusName): boolean {
  return execution !== 'RUNNING' && execution !== 'UNSPECIFIED' && execution !== 'UNKNOWN';
}

const ACTIVE_STATES = new Set(['creating', 'queued', 'running', 'awaiting_human']);
const QUERY_TIMEOUT_MS = 5000;
/** At most this many batch items get their live details per poll. */
const MAX_LIVE_ITEMS = 50;

interface ChildLive {
  startedAt?: string;
  closedAt?: string;
  cursor?: StreamCursor;
  progress?: AgentRunProgress;
}

/** Reads snapshots of one process; remembers what never changes again (closed children). */
export class SnapshotReader {
  private readonly closedChildren = new Map<string, ChildLive>();
  /**
   * The most steps and cost seen per run. Between the stream activity's end and the workflow taking
   * its result, neither the heartbeat nor the query has the last numbers: a run's count never goes
   * back, so the view does not either.
   */
  private readonly highWater = new Map<string, { steps: number; costUsd: number }>();

  constructor(
    private readonly client: Client,
    readonly workflowId: string,
    /**
     * With the runs API, runs with webhook delivery show live steps and cost (from the run object);
     * without it they show the numbers of the workflow's last read of the run.
     */
    private readonly options: { runs?: RunsClient } = {},
  ) {}

  async read(): Promise<Snapshot> {
    const handle = this.client.workflow.getHandle(this.workflowId);
    const description = await describeOrExplain(handle.describe(), this.workflowId);
    const kind = WORKFLOW_TYPES[description.type] ?? 'unknown';
    const base: Snapshot = {
      workflowId: this.workflowId,
      runId: description.runId,
      workflowType: description.type,
      kind,
      name: memoName(description) ?? this.workflowId,
      execution: description.status.name,
      status: description.status.name.toLowerCase(),
      taskQueue: description.taskQueue,
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString(),
      costUsd: 0,
      lines: [],
      pauses: [],
    };
    let progress: unknown;
    try {
      progress = await this.query(this.workflowId);
    } catch (error) {
      base.progressError = explainQueryError(error, description.taskQueue);
      // A process that ended while it was read (its query then fails or times out): say it ended.
      const now = await handle.describe().catch(() => undefined);
      if (now && now.status.name !== 'RUNNING') {
        base.execution = now.status.name;
        base.status = now.status.name.toLowerCase();
        base.closedAt = now.closeTime?.toISOString();
      }
      return base;
    }
    const kindOf = (progress as { kind?: string } | undefined)?.kind;
    if (kindOf === 'chain') return this.chain(base, progress as ChainProgress);
    if (kindOf === 'batch') return this.batch(base, progress as BatchProgress);
    if (kindOf === 'agentRun') return this.agentRun(base, progress as AgentRunProgress, description);
    return base;
  }

  private holdHighWater(line: LineView): LineView {
    if (!line.workflowId) return line;
    const seen = this.highWater.get(line.workflowId);
    if (seen) {
      line.steps = Math.max(line.steps, seen.steps);
      line.costUsd = Math.max(line.costUsd, seen.costUsd);
    }
    this.highWater.set(line.workflowId, { steps: line.steps, costUsd: line.costUsd });
    return line;
  }

  private async agentRun(
    base: Snapshot,
    progress: AgentRunProgress,
    description: WorkflowExecutionDescription,
  ): Promise<Snapshot> {
    const cursor = (await this.streamCursor(description)) ?? (await this.runObjectCursor(progress));
    const live = cursor?.summary;
    const line: LineView = this.holdHighWater({
      id: 'run',
      type: 'agent',
      state: progress.status,
      workflowId: this.workflowId,
      runId: progress.runId ?? live?.runId,
      steps: Math.max(progress.steps, live?.steps ?? 0),
      maxSteps: progress.maxSteps,
      costUsd: Math.max(progress.costUsd, centsToUsd(live?.costCents ?? 0)),
      action: live?.lastAction ?? progress.lastAction,
      startedAt: base.startedAt,
      closedAt: base.closedAt,
    });
    return {
      ...base,
      kind: 'agentRun',
      status: progress.status,
      costUsd: line.costUsd,
      lines: [line],
      pauses: progress.awaiting ? [runPause(this.workflowId, progress, 'run')] : [],
    };
  }

  private async chain(base: Snapshot, progress: ChainProgress): Promise<Snapshot> {
    const pauses: Pause[] = [];
    if (progress.awaiting) {
      const step = progress.steps.find((s) => s.id === progress.awaiting!.stepId);
      pauses.push({
        workflowId: this.workflowId,
        requestId: progress.awaiting.requestId,
        reason: step?.question ?? progress.awaiting.reason,
        since: progress.awaiting.since,
        where: 'gate',
        id: progress.awaiting.stepId,
      });
    }
    const lines = await Promise.all(
      progress.steps.map(async (step) => {
        const line = chainLine(step);
        if (step.type !== 'agent' || !step.workflowId) return line;
        const live = await this.child(step.workflowId, ACTIVE_STATES.has(step.state));
        applyChildLive(line, live);
        if (live.progress?.awaiting) pauses.push(runPause(step.workflowId, live.progress, 'step', step.id));
        return this.holdHighWater(line);
      }),
    );
    const liveCost = lines.reduce((sum, line) => sum + line.costUsd, 0);
    return {
      ...base,
      kind: 'chain',
      name: progress.name,
      status: progress.status,
      costUsd: Math.max(progress.costUsd, centsToUsd(usdToCents(liveCost))),
      maxCostUsd: progress.maxCostUsd,
      lines,
      pauses,
      budget: progress.budget,
    };
  }

  private async batch(base: Snapshot, progress: BatchProgress): Promise<Snapshot> {
    const pauses: Pause[] = [];
    const items = progress.inFlight.slice(0, MAX_LIVE_ITEMS);
    const lines = await Promise.all(
      items.map(async (item) => {
        const line: LineView = {
          id: item.key,
          type: 'agent',
          state: item.state,
          workflowId: item.workflowId,
          machineId: item.machineId,
          steps: 0,
          costUsd: 0,
        };
        const live = await this.child(item.workflowId, true);
        applyChildLive(line, live);
        if (live.progress?.awaiting) pauses.push(runPause(item.workflowId, live.progress, 'item', item.key));
        return this.holdHighWater(line);
      }),
    );
    const inFlightCost = lines.reduce((sum, line) => sum + line.costUsd, 0);
    return {
      ...base,
      kind: 'batch',
      name: progress.name,
      status: progress.status,
      costUsd: centsToUsd(usdToCents(progress.costUsd + inFlightCost)),
      maxCostUsd: progress.maxCostUsd,
      lines,
      batch: {
        total: progress.total,
        done: progress.done,
        failed: progress.failed,
        running: progress.running,
        pending: progress.pending,
        paused: progress.paused,
        generation: progress.generation,
      },
      pauses,
      budget: progress.budget,
    };
  }

  /** A child agentRun: start/close time, and while it runs its heartbeat cursor and progress. */
  private async child(workflowId: string, active: boolean): Promise<ChildLive> {
    const known = this.closedChildren.get(workflowId);
    if (known) return known;
    let description: WorkflowExecutionDescription;
    try {
      description = await this.client.workflow.getHandle(workflowId).describe();
    } catch {
      return {}; // not started yet (or gone): the chain's own record is all there is
    }
    const live: ChildLive = {
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString(),
    };
    if (isClosed(description.status.name)) {
      this.closedChildren.set(workflowId, live);
      return live;
    }
    if (!active) return live;
    live.cursor = await this.streamCursor(description);
    try {
      live.progress = (await this.query(workflowId)) as AgentRunProgress;
    } catch {
      // the child's worker is busy or gone: show what the heartbeat says
    }
    live.cursor ??= await this.runObjectCursor(live.progress);
    return live;
  }

  private query(workflowId: string): Promise<unknown> {
    const handle = this.client.workflow.getHandle(workflowId);
    return this.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(progressQuery));
  }

  /** A webhook-delivered run's live numbers, from the run object (no stream, so no heartbeat). */
  private async runObjectCursor(progress: AgentRunProgress | undefined): Promise<StreamCursor | undefined> {
    const runs = this.options.runs;
    if (!runs || progress?.delivery !== 'webhook' || !progress.runId) return undefined;
    if (progress.status !== 'running' && progress.status !== 'queued') return undefined;
    try {
      const run = await runs.getRun(progress.runId);
      const summary = { runId: run.id, status: run.status, steps: run.steps, eventsHandled: 0 };
      return {
        summary: { ...summary, costCents: usdToCents(run.cost_usd) },
        recentIds: [],
        reconnects: 0,
        retries: 0,
      };
    } catch {
      return undefined; // the workflow's own numbers will do
    }
  }

  /** The stream activity's last heartbeat (a StreamCursor), if the run is being followed now. */
  private async streamCursor(description: WorkflowExecutionDescription): Promise<StreamCursor | undefined> {
    const pending = description.raw.pendingActivities ?? [];
    const stream = pending.find((activity) => isStreamActivityType(activity.activityType?.name));
    return decodeHeartbeatCursor(this.client, stream?.heartbeatDetails?.payloads);
  }
}

function chainLine(step: ChainStepProgress): LineView {
  return {
    id: step.id,
    type: step.type,
    state: step.state,
    workflowId: step.workflowId,
    runId: step.runId,
    steps: step.steps,
    maxSteps: step.maxSteps,
    costUsd: step.costUsd,
    attempts: step.attempts,
    question: step.question,
    result: step.result,
    error: step.error,
  };
}

function applyChildLive(line: LineView, live: ChildLive): void {
  line.startedAt = live.startedAt ?? line.startedAt;
  line.closedAt = live.closedAt ?? line.closedAt;
  const progress = live.progress;
  const summary = live.cursor?.summary;
  line.runId = progress?.runId ?? summary?.runId ?? line.runId;
  if (progress) {
    if (ACTIVE_STATES.has(line.state) || line.state === 'pending') line.state = progress.status;
    line.maxSteps ??= progress.maxSteps;
  }
  const steps = Math.max(progress?.steps ?? 0, summary?.steps ?? 0);
  const cost = Math.max(progress?.costUsd ?? 0, centsToUsd(summary?.costCents ?? 0));
  if (steps > line.steps) line.steps = steps;
  if (cost > line.costUsd) line.costUsd = cost;
  line.action = summary?.lastAction ?? progress?.lastAction ?? line.action;
  if (
    summary &&
    ACTIVE_STATES.has(line.state) &&
    summary.status !== 'awaiting_human' &&
    !progress?.awaiting
  ) {
    line.state = summary.status;
  }
}

function runPause(workflowId: string, progress: AgentRunProgress, where: Pause['where'], id?: string): Pause {
  const awaiting = progress.awaiting!;
  return {
    workflowId,
    requestId: awaiting.requestId,
    reason: awaiting.reason,
    proposedAction: awaiting.proposedAction,
    since: awaiting.since,
    where,
    id,
  };
}

function memoName(description: WorkflowExecutionDescription): string | undefined {
  const name = description.memo?.name;
  return typeof name === 'string' ? name : undefined;
}

async function describeOrExplain(
  described: Promise<WorkflowExecutionDescription>,
  workflowId: string,
): Promise<WorkflowExecutionDescription> {
  try {
    return await described;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || /not found/i.test((error as Error).message)) {
      throw new ProcessNotFound(workflowId);
    }
    throw error;
  }
}

function explainQueryError(error: unknown, taskQueue: string): string {
  const message = (error as Error).message ?? String(error);
  if (/deadline|timeout|timed out/i.test(message)) {
    return `no worker answered within ${QUERY_TIMEOUT_MS / 1000} s: is a worker polling task queue ${taskQueue}? (npx coasty-temporal worker --task-queue ${taskQueue})`;
  }
  return message;
}
