// The controls of a process besides approvals: cancel it, raise its budget. Used by the CLI and serve.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { raiseBudgetSignal, raiseBudgetUpdate, type RaiseBudget } from '../workflows/messages';
import { ProcessClosed, ProcessNotFound, RequestRefused } from './process-errors';
import { isClosed, SnapshotReader } from './snapshot';

const NO_HANDLER = /not (registered|found)|unknown update|no (registered )?handler/i;

/** Requests cancellation of a running process; ProcessClosed when it has ended, ProcessNotFound. */
export async function cancelProcess(client: Client, workflowId: string): Promise<void> {
  const before = await new SnapshotReader(client, workflowId).read();
  if (isClosed(before.execution)) throw new ProcessClosed(workflowId, before.execution.toLowerCase());
  await client.workflow.getHandle(workflowId).cancel();
}

/**
 * Raises a chain's or batch's max cost through the `raiseBudget` update (the workflow refuses a
 * budget below what it has spent or set); returns the budget in force. RequestRefused, ProcessNotFound.
 */
export async function raiseBudget(
  client: Client,
  workflowId: string,
  request: RaiseBudget,
): Promise<{ maxCostUsd: number }> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await handle.executeUpdate(raiseBudgetUpdate, { args: [request] });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new ProcessNotFound(workflowId);
    if (!(error instanceof WorkflowUpdateFailedError)) {
      if (/not found/i.test((error as Error).message)) throw new ProcessNotFound(workflowId);
      throw error;
    }
    const why = error.cause?.message ?? error.message;
    if (!NO_HANDLER.test(why)) throw new RequestRefused(workflowId, 'budget', why);
    await handle.signal(raiseBudgetSignal, request);
    return { maxCostUsd: request.maxCostUsd };
  }
}
