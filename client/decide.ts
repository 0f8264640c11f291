// Approve or reject: find the pause a person is asked about and send the decision to the workflow that
// waits (an agentRun, a chain's approval gate, a chain step's or a batch item's run).
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { decisionProblem } from '../workflows/decision-rules';
import { decideUpdate, humanInputSignal, type DecisionAck, type HumanDecision } from '../workflows/messages';
import { CliError, UsageError } from './errors';
import { SnapshotReader, type Pause, type Snapshot } from './snapshot';

export interface DecisionInput {
  action: 'approve' | 'reject';
  message?: string;
  by?: string;
}

export interface DecisionSent {
  /** The process the command named. */
  workflowId: string;
  /** The workflow that waited and got the decision. */
  target: string;
  where: Pause['where'];
  id?: string;
  requestId: string;
  reason: string;
  action: 'approve' | 'reject';
  /** False when the pause had been decided already (by someone else, or twice). */
  accepted: boolean;
}

/** Sends a decision for one pause through the `decide` update (validated: refused when nothing waits). */
export async function sendDecision(client: Client, pause: Pause, input: DecisionInput): Promise<DecisionAck> {
  const decision: HumanDecision = { ...input, requestId: pause.requestId };
  const handle = client.workflow.getHandle(pause.workflowId);
  try {
    return await handle.executeUpdate(decideUpdate, { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const why = error.cause?.message ?? error.message;
      if (/not (registered|found)|unknown update|no (registered )?handler/i.test(why)) {
        // A workflow without the update (older code): the signal carries the same decision, unvalidated.
        await handle.signal(humanInputSignal, decision);
        return { requestId: pause.requestId, accepted: true };
      }
      throw new CliError(`${pause.workflowId} refused the decision: ${why}`);
    }
    throw error;
  }
}

export interface DecideOptions extends DecisionInput {
  /** Decide every waiting item of a batch, not just the only one. */
  all?: boolean;
  /** Answer this pause only (the request id shown by `status`). */
  requestId?: string;
}

/** `approve <id>` / `reject <id>`: decides the pause(s) of a process; errors say what waits instead. */
export async function decide(
  client: Client,
  workflowId: string,
  options: DecideOptions,
): Promise<DecisionSent[]> {
  // Refused here, before anything is sent: the runs API would refuse it after the workflow accepted it.
  const problem = decisionProblem({ action: options.action, message: options.message, by: options.by });
  if (problem) throw new UsageError(`Not sent: ${problem}.`);
  const snapshot = await new SnapshotReader(client, workflowId).read();
  let pauses = snapshot.pauses;
  if (options.requestId) pauses = pauses.filter((pause) => pause.requestId === options.requestId);
  if (pauses.length === 0) throw new CliError(notWaitingMessage(snapshot, options.requestId));
  if (pauses.length > 1 && !options.all) {
    const ids = pauses
      .map((pause) => `  npx coasty-temporal ${options.action} ${pause.workflowId}`)
      .join('\n');
    throw new UsageError(
      `${pauses.length} runs of ${workflowId} wait for a person; name one, or add --all:\n${ids}`,
    );
  }
  const sent: DecisionSent[] = [];
  for (const pause of pauses) {
    const ack = await sendDecision(client, pause, options);
    sent.push({
      workflowId,
      target: pause.workflowId,
      where: pause.where,
      id: pause.id,
      requestId: ack.requestId,
      reason: pause.reason,
      action: options.action,
      accepted: ack.accepted,
    });
  }
  return sent;
}

function notWaitingMessage(snapshot: Snapshot, requestId?: string): string {
  if (snapshot.progressError)
    return `Cannot read ${snapshot.workflowId}'s progress: ${snapshot.progressError}`;
  if (requestId) return `${snapshot.workflowId} has no open pause ${requestId} (status ${snapshot.status}).`;
  if (snapshot.budget) {
    return (
      `${snapshot.workflowId} waits for a larger budget, not an approval: ` +
      `npx coasty-temporal raise-budget ${snapshot.workflowId} <usd> (needs $${snapshot.budget.neededUsd.toFixed(2)})`
    );
  }
  return `${snapshot.workflowId} is not waiting for a person (status ${snapshot.status}).`;
}
