// An approval gate of a chain: waits for a person's decision (request id = the gate's id) with a
// timeout and a policy for silence: reject (the chain stops, failed), cancel (the chain ends
// cancelled) or fail (the chain workflow fails with ApprovalTimedOut).
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { timedOutApproval, type ApprovalInbox } from './approvals';
import type { ChainProgress } from './messages';
import { recordDecision } from './metrics';
import type { ApprovalGateSpec } from './process-types';
import type { StepRecord, StepVerdict } from './chain-result';

export interface GateContext {
  inbox: ApprovalInbox;
  /** The gate's question, rendered. */
  question: string;
  onOpen(awaiting: NonNullable<ChainProgress['awaiting']>): void;
  onClose(): void;
}

export async function awaitGate(
  gate: ApprovalGateSpec,
  record: StepRecord,
  context: GateContext,
): Promise<StepVerdict> {
  const { inbox, question } = context;
  Object.assign(record, { state: 'awaiting_approval', question, attempts: 1 });
  inbox.open(gate.id);
  const openedAt = new Date().toISOString();
  context.onOpen({ requestId: gate.id, reason: question, stepId: gate.id, since: openedAt });
  let decided: boolean;
  try {
    decided = await condition(() => inbox.peek(gate.id) !== undefined, gate.timeoutSeconds * 1000);
  } finally {
    context.onClose();
  }
  const decision = inbox.peek(gate.id);
  inbox.close(gate.id);
  const at = new Date().toISOString();
  recordDecision(decided && decision ? decision.action : 'timeout', Date.parse(at) - Date.parse(openedAt));

  if (decided && decision) {
    const { requestId: _requestId, ...rest } = decision;
    record.approvals.push({ requestId: gate.id, reason: question, ...rest, at });
    record.result = decision.message ?? null;
    if (decision.action === 'approve') {
      record.state = 'approved';
      return 'next';
    }
    record.state = 'rejected';
    record.error = { type: 'rejected_by_human', message: decision.message ?? 'a person rejected it' };
    return 'stop';
  }

  const timedOut = timedOutApproval(gate.id, question, gate.timeoutPolicy, at);
  record.approvals.push(timedOut);
  record.error = { type: 'approval_timed_out', message: timedOut.message };
  if (gate.timeoutPolicy === 'reject') {
    record.state = 'rejected';
    return 'stop';
  }
  record.state = 'cancelled';
  if (gate.timeoutPolicy === 'cancel') return 'cancel';
  throw ApplicationFailure.nonRetryable(
    `No decision for "${question}" (gate ${gate.id}) within ${gate.timeoutSeconds} s`,
    'ApprovalTimedOut',
  );
}
