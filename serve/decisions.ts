// The decisions made so far in a process (who, when, message): from its result once it has ended, and
// while it runs from the progress of its runs and, for a chain's own gates, from the chain's progress.
import type { Client } from '@temporalio/client';
import type { Snapshot } from '../client/snapshot';
import {
  progressQuery,
  type AgentRunProgress,
  type ApprovalRecord,
  type ChainProgress,
} from '../workflows/messages';

export type DecisionView = ApprovalRecord & { where?: string };

const QUERY_TIMEOUT_MS = 3000;

export class DecisionReader {
  /** Decisions of runs that have ended never change. */
  private readonly ended = new Map<string, DecisionView[]>();

  constructor(private readonly client: Client) {}

  async read(snapshot: Snapshot): Promise<DecisionView[]> {
    if (snapshot.execution !== 'RUNNING') {
      const key = `${snapshot.workflowId}@${snapshot.runId}`;
      const known = this.ended.get(key);
      if (known) return known;
      const result = await this.client.workflow
        .getHandle(snapshot.workflowId, snapshot.runId)
        .result()
        .catch(() => undefined);
      const approvals = (
        (result as { approvals?: Array<ApprovalRecord & { stepId?: string }> })?.approvals ?? []
      ).map(({ stepId, ...approval }) => ({ ...approval, ...(stepId ? { where: stepId } : {}) }));
      this.ended.set(key, approvals);
      return approvals;
    }
    const runs =
      snapshot.kind === 'agentRun'
        ? [{ workflowId: snapshot.workflowId, where: undefined, closed: false }]
        : snapshot.lines
            .filter((line) => line.type === 'agent' && line.workflowId)
            .map((line) => ({
              workflowId: line.workflowId!,
              where: line.id,
              closed: Boolean(line.closedAt),
            }));
    const lists = await Promise.all(runs.map((run) => this.ofRun(run.workflowId, run.where, run.closed)));
    if (snapshot.kind === 'chain') lists.push(await this.ofGates(snapshot));
    return lists.flat().sort((a, b) => a.at.localeCompare(b.at));
  }

  /** A running chain's own gates: their decisions are in the chain's progress once the gate is over. */
  private async ofGates(snapshot: Snapshot): Promise<DecisionView[]> {
    const gates = new Set(snapshot.lines.filter((line) => line.type === 'approval').map((line) => line.id));
    try {
      const handle = this.client.workflow.getHandle(snapshot.workflowId);
      const progress = (await this.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        handle.query(progressQuery),
      )) as ChainProgress;
      return (progress.approvals ?? [])
        .filter((approval) => gates.has(approval.stepId))
        .map(({ stepId, ...approval }) => ({ ...approval, where: stepId }));
    } catch {
      return [];
    }
  }

  private async ofRun(
    workflowId: string,
    where: string | undefined,
    closed: boolean,
  ): Promise<DecisionView[]> {
    const known = this.ended.get(workflowId);
    if (known) return known;
    try {
      const handle = this.client.workflow.getHandle(workflowId);
      const progress = (await this.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        handle.query(progressQuery),
      )) as AgentRunProgress;
      const decisions = (progress.approvals ?? []).map((approval) => ({
        ...approval,
        ...(where ? { where } : {}),
      }));
      if (closed) this.ended.set(workflowId, decisions);
      return decisions;
    } catch {
      return [];
    }
  }
}
