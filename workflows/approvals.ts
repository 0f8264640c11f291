import type { HumanDecision } from './messages';

/**
 * Decisions matched to the pause they answer. A decision may arrive before its pause (kept), twice
 * (the first wins), or without a request id (it answers the current pause, else the next one).
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

  /** Returns false when the decision is a duplicate or answers a pause already decided. */
  offer(decision: HumanDecision): boolean {
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
