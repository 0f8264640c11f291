// How a finished process ended, from its result (or its failure), and the exit code that says so.
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { EXIT } from './errors';

export interface Outcome {
  /** The process did what it was for: every run succeeded (a batch: no item failed). */
  ok: boolean;
  /** succeeded, failed, cancelled, timed_out, terminated, completed (a batch), ... */
  status: string;
  /** The workflow's result, when it returned one. */
  result?: unknown;
  /** Why it did not succeed, in a sentence. */
  error?: string;
}

interface ResultLike {
  status?: unknown;
  failed?: unknown;
  error?: { type?: string; message?: string } | null;
}

export function outcomeFromResult(result: unknown): Outcome {
  const value = (result ?? {}) as ResultLike;
  const status = typeof value.status === 'string' ? value.status : 'completed';
  const failedItems = typeof value.failed === 'number' ? value.failed : 0;
  const ok = (status === 'succeeded' || status === 'completed') && failedItems === 0;
  let error: string | undefined;
  if (value.error?.message) error = `${value.error.type ?? 'error'}: ${value.error.message}`;
  else if (failedItems > 0) error = `${failedItems} item${failedItems === 1 ? '' : 's'} failed`;
  else if (!ok) error = `ended ${status}`;
  return { ok, status, result, ...(error ? { error } : {}) };
}

/** Waits for a closed (or closing) process's result; a workflow failure is an Outcome too. */
export async function readOutcome(client: Client, workflowId: string): Promise<Outcome> {
  try {
    return outcomeFromResult(await client.workflow.getHandle(workflowId).result());
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const cause = error.cause;
      const name = cause?.constructor?.name ?? '';
      const status = /Cancel/.test(name)
        ? 'cancelled'
        : /Terminated/.test(name)
          ? 'terminated'
          : /Timeout/.test(name)
            ? 'timed_out'
            : 'failed';
      return { ok: false, status, error: cause?.message || error.message };
    }
    throw error;
  }
}

export function exitCodeOf(outcome: Outcome): number {
  return outcome.ok ? EXIT.ok : EXIT.failed;
}
