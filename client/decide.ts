// Approve or reject: find the pause a person is asked about and send the decision to the workflow that
// waits (an agentRun, a chain's approval gate, a chain step's or a batch item's run).
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { decisionProblem } from '../workflows/decision-rules';
import { decideUpdate, humanInputSignal, type DecisionAck, type HumanDecision } from '../workflows/messages';
import {
  AmbiguousPause,
  InvalidDecision,
  NothingAwaiting,
  ProgressUnavailable,
  RequestRefused,
  StaleRequest,
} from './process-errors';
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
      if (/not the open one|not waiting for a person/i.test(why)) {
        throw new StaleRequest(pause.workflowId, pause.requestId, why);
      }
      throw new RequestRefused(pause.workflowId, 'decision', why);
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

/**
 * `approve <id>` / `reject <id>`: decides the pause(s) of a process. Throws ProcessNotFound,
 * ProgressUnavailable, NothingAwaiting, StaleRequest (the named pause is not open), AmbiguousPause.
 */
export async function decide(
  client: Client,
  workflowId: string,
  options: DecideOptions,
): Promise<DecisionSent[]> {
  // Refused here, before anything is sent: the runs API would refuse it after the workflow accepted it.
  const problem = decisionProblem({ action: options.action, message: options.message, by: options.by });
  if (problem) throw new InvalidDecision(workflowId, problem);
  const pauses = await openPauses(client, workflowId, options.requestId);
  if (pauses.length > 1 && !options.all) throw new AmbiguousPause(workflowId, pauses);
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

/**
 * The open pauses of a process (only the one with `requestId`, if given): at least one, else
 * NothingAwaiting, StaleRequest (that pause is not open), ProgressUnavailable or ProcessNotFound.
 */
export async function openPauses(client: Client, workflowId: string, requestId?: string): Promise<Pause[]> {
  const snapshot = await new SnapshotReader(client, workflowId).read();
  let pauses = snapshot.pauses;
  if (requestId) pauses = pauses.filter((pause) => pause.requestId === requestId);
  if (pauses.length === 0) throw notWaiting(snapshot, requestId);
  return pauses;
}

function notWaiting(snapshot: Snapshot, requestId?: string): Error {
  // A process that has ended has no open pause, whether or not its progress could be read.
  if (snapshot.progressError && snapshot.execution === 'RUNNING')
    return new ProgressUnavailable(snapshot.workflowId, snapshot.progressError);
  if (requestId) return new StaleRequest(snapshot.workflowId, requestId, `status ${snapshot.status}`);
  return new NothingAwaiting(snapshot.workflowId, snapshot.status, snapshot.budget);
}
