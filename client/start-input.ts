// The arguments a workflow was started with, read from the first event of its history (decoded with
// the client's data converter, so encrypted payloads work). They never change: callers may cache them.
import type { Client } from '@temporalio/client';
import { decodeFirstPayload } from './heartbeat-cursor';

export async function readStartInput(client: Client, workflowId: string, runId?: string): Promise<unknown> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payloads = started?.input?.payloads;
  if (!payloads?.length) return undefined;
  return decodeFirstPayload(client, payloads);
}
