// Every `patched` id of the workflows, with what it changed. A history recorded before a patch
// replays down the old path; test/replay/ holds such histories and replays them in `npm test`.
// Remove a patch (deprecatePatch, then nothing) only once no open workflow can predate it.
// Not here: 388542c (createRun became a local activity) shipped without a patch, so histories from
// before it and after it both lack a marker and no code can replay both; deployments that cross it
// must let agentRun workflows finish first (README, "Upgrading").
import { patched } from '@temporalio/workflow';
import type { ApprovalInbox } from './approvals';
import type { HumanDecision } from './messages';
import { ACTIVITY_NAMES_PATCH } from './names';

export const PATCHES = {
  /** agentRun cancels its remote run on every exit that is not a terminal run state, and says what it cost. */
  cleanupOnEveryExit: 'agent-run-cleanup-on-every-exit',
  /** A decision counts only for the pause open when it arrives (before: kept for later pauses). */
  decisionsForOpenPauseOnly: 'decisions-for-open-pause-only',
  /** runBatch waits for an item's leftover child that still runs instead of counting it done. */
  batchWaitsForLeftover: 'batch-waits-for-leftover-child',
  /** agentRun schedules its activities as `coasty.*` (ACTIVITY_TYPE_NAMES) instead of the bare names. */
  prefixedActivityNames: ACTIVITY_NAMES_PATCH,
  /** A late `queued` signal handled with `running` in one activation no longer hides the `running`. */
  webhookHintsForwardOnly: 'webhook-hints-forward-only',
  /** Webhook delivery reads the run as a local activity, in the workflow task that wants it (before: an activity). */
  webhookReadsInTask: 'webhook-reads-in-task',
} as const;

/** Offers a decision under the rule of the history being run (see ApprovalInbox). */
export function offerDecision(inbox: ApprovalInbox, decision: HumanDecision): boolean {
  const strict = inbox.refusesStrictly(decision) ? patched(PATCHES.decisionsForOpenPauseOnly) : true;
  return inbox.offer(decision, { strict });
}

/** The run-state inbox's rule for a late `queued` under the history being run (see RunStateInbox). */
export const webhookHintsForwardOnly = (): boolean => patched(PATCHES.webhookHintsForwardOnly);
