// Approvals: which decision answers which pause, and what a pause nobody answered records.
import type { ApprovalRecord, HumanDecision } from './messages';
import type { ApprovalTimeoutPolicy } from './process-types';

/** A pause nobody answered in time: recorded as a rejection by the timeout policy, not by a person. */
export function timedOutApproval(
  requestId: string,
  reason: string,
  policy: ApprovalTimeoutPolicy,
  at: string,
): ApprovalRecord & { message: string } {
  const message = policy === 'reject' ? 'approval timed out' : `approval timed out (policy ${policy})`;
  return { requestId, reason, action: 'reject', message, at, timedOut: true };
}

/**
 * Decisions matched to the pause they answer. A decision counts only for the pause that is open
 * when it arrives, the one a person could see: named by its request id, or unnamed. A decision for
 * another pause, one sent while nothing waits, and a second decision for the same pause are ignored.
 *
 * Histories recorded before that rule kept early and named-ahead decisions for later pauses; the
 * `strict: false` path keeps replaying them the way they ran (`PATCHES.decisionsForOpenPauseOnly`).
 */
export class ApprovalInbox {
  private readonly byRequest = new Map<string, HumanDecision>();
  private readonly answered = new Set<string>();
  private forNextPause: HumanDecision | undefined;
  private current: string | undefined;

  /** Marks a pause as open; unnamed decisions from now on answer it. */
  open(requestId: string): void {
    this.current = requestId;
  }

  /** True when the strict rule refuses the decision: nothing open, or another pause named. */
  refusesStrictly(decision: HumanDecision): boolean {
    return (
      this.current === undefined || (decision.requestId !== undefined && decision.requestId !== this.current)
    );
  }

  /** Returns false when the decision is ignored (see the class comment). */
  offer(decision: HumanDecision, { strict = true }: { strict?: boolean } = {}): boolean {
    if (strict && this.refusesStrictly(decision)) return false;
    const requestId = decision.requestId ?? this.current;
    if (requestId === undefined) {
      if (this.forNextPause) return false;
      this.forNextPause = decision;
      return true;
    }
    if (this.answered.has(requestId) || this.byRequest.has(requestId)) return false;
    this.byRequest.set(requestId, decision);
    return true;
  }

  /** The decision for an open pause, if one has arrived; does not consume it. */
  peek(requestId: string): HumanDecision | undefined {
    return this.byRequest.get(requestId) ?? this.forNextPause;
  }

  /** Closes the pause and consumes its decision. */
  close(requestId: string): void {
    if (!this.byRequest.delete(requestId)) this.forNextPause = undefined;
    this.answered.add(requestId);
    this.current = undefined;
  }

  isOpen(requestId?: string): boolean {
    return this.current !== undefined && (requestId === undefined || requestId === this.current);
  }

  get openRequestId(): string | undefined {
    return this.current;
  }
}
