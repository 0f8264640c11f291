// batchItem: the child of runBatch for one item. It is agentRun, except that a run that did not
// succeed makes the workflow FAIL (its result in the failure's details). That is what lets
// `WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY` tell a done item (completed: starting it
// again is refused) from one to redo (failed, cancelled or terminated: it starts afresh).
import { ApplicationFailure } from '@temporalio/workflow';
import { agentRun, type AgentRunInput, type AgentRunResult } from './agent-run';

export const BATCH_ITEM_FAILED = 'BatchItemFailed';

export async function batchItem(input: AgentRunInput): Promise<AgentRunResult> {
  const result = await agentRun(input);
  if (result.status === 'succeeded') return result;
  throw ApplicationFailure.create({
    type: BATCH_ITEM_FAILED,
    message: `run ${result.runId} ended ${result.status}${result.error ? `: ${result.error.type}: ${result.error.message}` : ''}`,
    nonRetryable: true,
    details: [result],
  });
}
