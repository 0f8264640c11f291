// Start a process (a chain or a batch) from its spec, or attach to the one already running under that id.
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WORKFLOW_TYPE_NAMES } from '../workflows/names';
import type { ProcessSpec } from '../workflows/process-types';

export const WORKFLOW_TYPE_OF = {
  chain: WORKFLOW_TYPE_NAMES.runChain,
  batch: WORKFLOW_TYPE_NAMES.runBatch,
} as const;

export interface StartedProcess {
  workflowId: string;
  /** The run this command started, or the running one it attached to. */
  runId: string;
  kind: ProcessSpec['kind'];
  name: string;
  taskQueue: string;
  /** True when a process with this id was running already: nothing new was started. */
  attached: boolean;
  startedAt: string;
  handle: WorkflowHandle;
}

export interface StartProcessOptions {
  /** Default: the process's name, so starting the same file again attaches to the running process. */
  workflowId?: string;
  taskQueue: string;
  /** Where the spec came from, kept in the workflow's memo. */
  file?: string;
}

/**
 * Starts `runChain` / `runBatch` with WorkflowIdConflictPolicy USE_EXISTING: if a process with this id
 * runs, its handle is returned and the spec is ignored. A closed one with the same id is started anew.
 */
export async function startProcess(
  client: Client,
  spec: ProcessSpec,
  options: StartProcessOptions,
): Promise<StartedProcess> {
  const workflowId = options.workflowId ?? spec.name;
  const before = await runningExecution(client, workflowId);
  const handle = await client.workflow.start(WORKFLOW_TYPE_OF[spec.kind], {
    workflowId,
    taskQueue: options.taskQueue,
    args: [spec],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { name: spec.name, kind: spec.kind, ...(options.file ? { file: options.file } : {}) },
  });
  const description = await client.workflow.getHandle(workflowId).describe();
  const attached = before !== undefined && before === description.runId;
  return {
    workflowId,
    runId: description.runId,
    kind: spec.kind,
    name: spec.name,
    taskQueue: description.taskQueue,
    attached,
    startedAt: description.startTime.toISOString(),
    handle,
  };
}

async function runningExecution(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? description.runId : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || /not found/i.test((error as Error).message))
      return undefined;
    throw error;
  }
}

/** What to tell a person about a task queue nobody polls (a worker must run somewhere). */
export async function taskQueueWarning(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<string | undefined> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    if ((response.pollers ?? []).length > 0) return undefined;
    return (
      `No worker polls task queue ${taskQueue} right now: the process waits until one does. ` +
      `Start one where COASTY_BASE_URL and COASTY_API_KEY are set: npx coasty-temporal worker --task-queue ${taskQueue}`
    );
  } catch {
    return undefined;
  }
}
