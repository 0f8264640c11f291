import type { RunSummary } from './types';

export const SECRET_PREFIX = 'COASTY_SECRET_';

export type Redact = (text: string) => string;

/**
 * Replaces every `COASTY_SECRET_*` value of the worker's environment with `[secret NAME]`. The
 * agent sees the real value, and may echo it in a result, an observation or a typed action: none
 * of that may reach heartbeats or workflow history.
 */
export function secretRedactor(env: NodeJS.ProcessEnv): Redact {
  const secrets = Object.entries(env)
    .filter((entry): entry is [string, string] => entry[0].startsWith(SECRET_PREFIX) && !!entry[1])
    .map(([name, value]) => ({ value, label: `[secret ${name.slice(SECRET_PREFIX.length)}]` }))
    .sort((a, b) => b.value.length - a.value.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const { value, label } of secrets) if (out.includes(value)) out = out.split(value).join(label);
    return out;
  };
}

/** The summary with every free text passed through `redact`. */
export function redactSummary(summary: RunSummary, redact: Redact): RunSummary {
  const out = { ...summary };
  if (out.result) out.result = redact(out.result);
  if (out.error) out.error = { ...out.error, message: redact(out.error.message) };
  if (out.awaiting) {
    out.awaiting = {
      ...out.awaiting,
      reason: redact(out.awaiting.reason),
      proposedAction: out.awaiting.proposedAction && redact(out.awaiting.proposedAction),
    };
  }
  if (out.lastAction) {
    out.lastAction = JSON.parse(redact(JSON.stringify(out.lastAction)));
  }
  return out;
}
