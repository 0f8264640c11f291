// Workflow ids a person may choose (`--id`): checked once, where they enter. Pure and sandbox-safe.

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
