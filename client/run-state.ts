// Tells an agentRun workflow that its run's state changed (webhook delivery; serve/webhooks).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { runStateSignal, type RunStateChange } from '../workflows/messages';

/** `ended` when the workflow is over or unknown: nothing is waiting for the news. */
export async function signalRunState(
  client: Client,
  workflowId: string,
  change: RunStateChange,
): Promise<'signalled' | 'ended'> {
  try {
    await client.workflow.getHandle(workflowId).signal(runStateSignal, change);
    return 'signalled';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'ended';
    throw error;
  }
}
