import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { StreamCursor } from '../../activities/types';
import { agentRun, type AgentRunInput } from '../../workflows/agent-run';
import { progressQuery, type AgentRunProgress } from '../../workflows/messages';
import type { TestStack } from './stack';
import { waitUntil } from './wait';

let seq = 0;

/** Starts agentRun on the stack's task queue; `task` and `machine` fill in the request. */
export function startAgentRun(
  stack: TestStack,
  input: Partial<AgentRunInput> & { task: string; machine?: string; maxSteps?: number },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof agentRun>> {
  seq += 1;
  const { task, machine, maxSteps, request, ...rest } = input;
  return stack.env.client.workflow.start(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId: `${stack.taskQueue}-run-${seq}`,
    args: [{ ...rest, request: { machine_id: machine ?? 'm-1', task, max_steps: maxSteps, ...request } }],
  });
}

export function waitForPause(handle: {
  query: (q: typeof progressQuery) => Promise<unknown>;
}): Promise<AgentRunProgress> {
  return waitUntil('the run to wait for a person', async () => {
    const progress = (await handle.query(progressQuery)) as AgentRunProgress;
    return progress.status === 'awaiting_human' && progress.awaiting ? progress : undefined;
  });
}

export function waitForRunId(handle: {
  query: (q: typeof progressQuery) => Promise<unknown>;
}): Promise<string> {
  return waitUntil(
    'the run to be created',
    async () => ((await handle.query(progressQuery)) as AgentRunProgress).runId,
  );
}

/** Every string and payload in a history, decoded, to search for values that must never be there. */
export function historyText(history: unknown): string {
  // Walk the proto objects ourselves: their toJSON would base64-encode payload bytes and hide them.
  const parts: string[] = [];
  const visit = (value: unknown): void => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(history);
  return parts.join('\n');
}

/** The stream activity's last heartbeat as the server holds it (what a retry resumes from). */
export async function serverCursor(handle: {
  describe: () => Promise<{ raw: unknown }>;
}): Promise<StreamCursor | undefined> {
  const { raw } = (await handle.describe()) as {
    raw: { pendingActivities?: Array<{ heartbeatDetails?: { payloads?: unknown[] } }> };
  };
  for (const activity of raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (payload) return defaultPayloadConverter.fromPayload(payload as Payload) as StreamCursor;
  }
  return undefined;
}
