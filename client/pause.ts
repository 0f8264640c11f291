// A pause a person can answer, as the client shows it: in a snapshot, the inbox, an error.
/** One person-needed pause; a decision for it goes to `workflowId` with `requestId`. */
export interface Pause {
  workflowId: string;
  requestId: string;
  reason: string;
  proposedAction?: string;
  since: string;
  /** What waits: an approval gate of a chain, a chain step's run, a batch item's run, a single run. */
  where: 'gate' | 'step' | 'item' | 'run';
  /** The step id or item key. */
  id?: string;
}
