// The agent step a chain runs now, and forwarding of a person's decisions to it.
// A decision that arrives while the child is being started is queued and sent once it has started.
import { log, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { agentRun } from './agent-run';
import { humanInputSignal, type HumanDecision } from './messages';

export class ChildForwarder {
  private handle: ChildWorkflowHandle<typeof agentRun> | undefined;
  private queued: HumanDecision[] = [];
  workflowId: string | undefined;

  begin(workflowId: string): void {
    this.workflowId = workflowId;
    this.handle = undefined;
    this.queued = [];
  }

  async attach(handle: ChildWorkflowHandle<typeof agentRun>): Promise<void> {
    this.handle = handle;
    const queued = this.queued;
    this.queued = [];
    for (const decision of queued) await this.send(decision);
  }

  end(): void {
    if (this.queued.length > 0)
      log.warn(`${this.queued.length} decision(s) for ${this.workflowId} arrived too late`);
    this.workflowId = undefined;
    this.handle = undefined;
    this.queued = [];
  }

  /** True when the decision was sent (or queued for the child being started). */
  async forward(decision: HumanDecision): Promise<boolean> {
    if (this.workflowId === undefined) return false;
    if (!this.handle) {
      this.queued.push(decision);
      return true;
    }
    return this.send(decision);
  }

  private async send(decision: HumanDecision): Promise<boolean> {
    const handle = this.handle;
    if (!handle) return false;
    try {
      await handle.signal(humanInputSignal, decision);
      return true;
    } catch (error) {
      // The child ended between the decision and the signal: nothing waits for it any more.
      log.warn(`decision not forwarded to ${handle.workflowId}: ${(error as Error).message}`);
      return false;
    }
  }
}
