// Ids and idempotency keys, in one place: the workflow ids a person may choose (`--id`, checked once,
// where they enter), the ids of the children built from them, and the keys that make each run and each
// resume happen once. Pure and sandbox-safe.

/** Room for the child ids and idempotency keys built from it (`<id>/<step>/retry-N`, `.../resume/<event>`). */
export const MAX_WORKFLOW_ID_CHARS = 200;

/** Why `id` cannot be a process's workflow id, or undefined when it can. Any script is fine; control characters are not. */
export function workflowIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_WORKFLOW_ID_CHARS)
    return `it has ${id.length} characters; at most ${MAX_WORKFLOW_ID_CHARS}`;
  if (id.trim() !== id) return 'it starts or ends with white space';
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.exec(id);
  if (control)
    return `it holds the control character U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return undefined;
}

/**
 * Short and different for every execution of a chain or batch (continue-as-new keeps it): part of
 * each run's idempotency key, so that starting the same id again makes new runs instead of
 * replaying the old ones. The tail of the run id: its head is a timestamp (UUIDv7).
 */
export function executionTag(firstExecutionRunId: string): string {
  return firstExecutionRunId.replace(/-/g, '').slice(-12);
}

/** The step key of a parent's child run: its execution tag and the attempt (a retry is a new run). */
export function childStepKey(runTag: string, attempt: number): string {
  return `${runTag}-${attempt}`;
}

/** `<workflow id>/<execution tag>/<step key>`: the same on every retry and replay of one execution. */
export function runIdempotencyKey(workflowId: string, firstExecutionRunId: string, stepKey = 'run'): string {
  return `${workflowId}/${executionTag(firstExecutionRunId)}/${stepKey}`;
}

/** One resume per pause of a run: `<run key>/resume/<request id>`. */
export function resumeIdempotencyKey(runKey: string, requestId: string): string {
  return `${runKey}/resume/${requestId}`;
}

/** A chain step's child: `<chain id>/<step id>`, a retry `<chain id>/<step id>/retry-N`. */
export function chainStepWorkflowId(chainId: string, stepId: string, attempt: number): string {
  const base = `${chainId}/${stepId}`;
  return attempt === 1 ? base : `${base}/retry-${attempt - 1}`;
}

/** A batch item's child: `<batch id>/<item key>` (a retry of the item reuses it once the last ended). */
export function batchItemWorkflowId(batchId: string, itemKey: string): string {
  return `${batchId}/${itemKey}`;
}
