// What makes a person's decision acceptable, in one place: the workflows' update validators and
// signal handlers, and the CLI before it sends anything. Pure and sandbox-safe.
import type { HumanDecision } from './messages';

/** The runs API refuses a resume message longer than this (the emulator's limit, docs/api.md). */
export const MAX_DECISION_MESSAGE_CHARS = 10_000;

/** Why the decision cannot be applied by its shape alone, or undefined when it can. */
export function decisionProblem(decision: HumanDecision | undefined): string | undefined {
  if (decision?.action !== 'approve' && decision?.action !== 'reject') {
    return `action must be "approve" or "reject", got ${JSON.stringify(decision?.action)}`;
  }
  const { message, by, requestId } = decision;
  if (message !== undefined && message !== null && typeof message !== 'string') return 'message must be text';
  if (typeof message === 'string' && message.length > MAX_DECISION_MESSAGE_CHARS) {
    return (
      `message is ${message.length} characters; the runs API accepts at most ${MAX_DECISION_MESSAGE_CHARS}: ` +
      'shorten it (put long notes in a linked document)'
    );
  }
  if (by !== undefined && by !== null && typeof by !== 'string') return 'by must be text';
  if (requestId !== undefined && requestId !== null && typeof requestId !== 'string') {
    return 'requestId must be text (awaiting.requestId from the progress query)';
  }
  return undefined;
}

export function isValidDecision(decision: HumanDecision | undefined): boolean {
  return decisionProblem(decision) === undefined;
}

/** Throws the problem (an update validator's refusal). */
export function validateDecision(decision: HumanDecision): void {
  const problem = decisionProblem(decision);
  if (problem) throw new Error(problem);
}
