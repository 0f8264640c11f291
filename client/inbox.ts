// Everything that waits for a person across all processes: chain gates, runs paused at
// awaiting_human (single runs, chain steps, batch items) and processes that wait for a budget.
// Found through visibility (CoastyStatus), then each process's own snapshot; oldest first.
import { dollars } from '../core/money';
import type { Client } from '@temporalio/client';
import type { StepAction } from '../api/types';
import type { AgentRunInput } from '../workflows/agent-run';
import type { ApprovalTimeoutPolicy, ChainSpec } from '../workflows/process-types';
import { listProcesses, listQuery } from './commands/list';
import { ProcessError } from './process-errors';
import { SnapshotReader, type LineView, type Pause, type ProcessKind } from './snapshot';
import { readStartInput } from './start-input';

export interface WaitingItem {
  /** Unique per pause: `<workflow id>#<request id>`, or `<process id>#budget`. */
  key: string;
  /** What waits: a chain's gate, a chain step's run, a batch item's run, a single run, a budget. */
  where: Pause['where'] | 'budget';
  /** The process a person knows (the chain, the batch, or the single run). */
  processId: string;
  processName: string;
  processKind: ProcessKind;
  /** The workflow a decision goes to, and the pause it answers (not for budgets). */
  workflowId: string;
  requestId?: string;
  /** The step id or the item key. */
  id?: string;
  reason: string;
  proposedAction?: string;
  since: string;
  /** When the pause gives up, and what happens then (reject, cancel, fail). */
  timeoutAt?: string;
  timeoutPolicy?: ApprovalTimeoutPolicy;
  /** The waiting run's line (steps, max steps, cost, last action), when a run waits. */
  line?: LineView;
  costUsd: number;
  maxCostUsd?: number;
  /** Budgets: what the next run needs. */
  neededUsd?: number;
  /** The last few steps before the pause, when the reader can see them (serve with the runs API key). */
  recent?: Array<{ at: string; action?: StepAction; observation?: string }>;
}

const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Reads the inbox; keeps what never changes (start inputs) between reads. */
export class InboxReader {
  private readonly inputs = new Map<string, Promise<unknown>>();
  private readonly readers = new Map<string, SnapshotReader>();

  constructor(
    private readonly client: Client,
    private readonly options: { taskQueue?: string; limit?: number } = {},
  ) {}

  async read(): Promise<WaitingItem[]> {
    const limit = this.options.limit ?? 200;
    const listed = await listProcesses(
      this.client,
      listQuery({ awaiting: true }, this.options.taskQueue),
      limit,
    );
    const roots = [...new Set(listed.map((process) => process.parentWorkflowId ?? process.workflowId))];
    const items = (await Promise.all(roots.map((root) => this.itemsOf(root)))).flat();
    const unique = new Map(items.map((item) => [item.key, item]));
    for (const reader of this.readers.keys()) if (!roots.includes(reader)) this.readers.delete(reader);
    return [...unique.values()].sort((a, b) => a.since.localeCompare(b.since) || a.key.localeCompare(b.key));
  }

  /** The waiting things of one process (empty when it has stopped waiting, or is gone). */
  async itemsOf(processId: string): Promise<WaitingItem[]> {
    let reader = this.readers.get(processId);
    if (!reader) this.readers.set(processId, (reader = new SnapshotReader(this.client, processId)));
    let snapshot;
    try {
      snapshot = await reader.read();
    } catch (error) {
      if (error instanceof ProcessError) return [];
      throw error;
    }
    const base = {
      processId,
      processName: snapshot.name,
      processKind: snapshot.kind,
      costUsd: snapshot.costUsd,
      maxCostUsd: snapshot.maxCostUsd,
    };
    const items: WaitingItem[] = [];
    for (const pause of snapshot.pauses) {
      const line = snapshot.lines.find((candidate) => candidate.workflowId === pause.workflowId);
      const timeout = await this.timeoutOf(pause, processId).catch(() => undefined);
      items.push({
        ...base,
        key: `${pause.workflowId}#${pause.requestId}`,
        where: pause.where,
        workflowId: pause.workflowId,
        requestId: pause.requestId,
        id: pause.id,
        reason: pause.reason,
        proposedAction: pause.proposedAction,
        since: pause.since,
        ...(timeout ?? {}),
        ...(pause.where === 'gate' ? {} : { line }),
      });
    }
    if (snapshot.budget) {
      items.push({
        ...base,
        key: `${processId}#budget`,
        where: 'budget',
        workflowId: processId,
        reason: `waits for a larger budget: spent and in flight ${dollars(snapshot.costUsd)}, needs ${dollars(snapshot.budget.neededUsd)} of ${dollars(snapshot.budget.maxCostUsd)}`,
        since: snapshot.budget.since,
        maxCostUsd: snapshot.budget.maxCostUsd,
        neededUsd: snapshot.budget.neededUsd,
      });
    }
    return items;
  }

  private async timeoutOf(
    pause: Pause,
    processId: string,
  ): Promise<{ timeoutAt: string; timeoutPolicy: ApprovalTimeoutPolicy } | undefined> {
    const at = (ms: number) => new Date(Date.parse(pause.since) + ms).toISOString();
    if (pause.where === 'gate') {
      const spec = (await this.input(processId)) as ChainSpec | undefined;
      const gate = spec?.steps?.find((step) => step.id === pause.id);
      if (gate?.type !== 'approval') return undefined;
      return { timeoutAt: at(gate.timeoutSeconds * 1000), timeoutPolicy: gate.timeoutPolicy };
    }
    const input = (await this.input(pause.workflowId)) as AgentRunInput | undefined;
    if (!input) return undefined;
    const ms =
      typeof input.approvalTimeout === 'number' ? input.approvalTimeout : DEFAULT_APPROVAL_TIMEOUT_MS;
    return { timeoutAt: at(ms), timeoutPolicy: input.approvalTimeoutPolicy ?? 'reject' };
  }

  private input(workflowId: string): Promise<unknown> {
    let input = this.inputs.get(workflowId);
    if (!input) {
      input = readStartInput(this.client, workflowId);
      input.catch(() => this.inputs.delete(workflowId));
      this.inputs.set(workflowId, input);
    }
    return input;
  }
}
