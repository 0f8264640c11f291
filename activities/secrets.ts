import { noSecrets, secretRedactor as redactorOf, type Redact, type Secret } from '../api/redact';
import { SECRET_PREFIX } from '../core/secrets';
import type { RunSummary } from './types';

export { noSecrets, type Redact };

/** Every non-empty `COASTY_SECRET_*` value of the worker's environment, labelled `[secret NAME]`. */
export function workerSecrets(env: NodeJS.ProcessEnv): Secret[] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => entry[0].startsWith(SECRET_PREFIX) && !!entry[1])
    .map(([name, value]) => ({ value, label: `[secret ${name.slice(SECRET_PREFIX.length)}]` }));
}

/**
 * Replaces every `COASTY_SECRET_*` value of the worker's environment (also JSON-escaped) with
 * `[secret NAME]`. The agent sees the real value, and may echo it in a result, an observation or a
 * typed action: none of that may reach heartbeats or workflow history.
 */
export function secretRedactor(env: NodeJS.ProcessEnv): Redact {
  return redactorOf(workerSecrets(env));
}

/** Where `{{secret.NAME}}` values come from when not from `COASTY_SECRET_NAME` variables. */
export type SecretSource = (name: string) => string | undefined;

/**
 * For a SecretSource: values cannot be listed up front, so each one is masked as `[secret NAME]`
 * once this worker process has handed it out (a run created by another process is masked after this
 * one resolves the same secret).
 */
export function sourceSecrets(source: SecretSource): { value: SecretSource; redact: Redact } {
  const seen = new Map<string, Secret>();
  let redact: Redact = noSecrets;
  return {
    value(name) {
      const value = source(name);
      if (value && !seen.has(value)) {
        seen.set(value, { value, label: `[secret ${name}]` });
        redact = redactorOf([...seen.values()]);
      }
      return value;
    },
    redact: (text) => redact(text),
  };
}

/** The summary with every free text passed through `redact`. */
export function redactSummary(summary: RunSummary, redact: Redact): RunSummary {
  if (redact === noSecrets) return summary;
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
  if (out.lastAction) out.lastAction = redactValue(out.lastAction, redact) as typeof out.lastAction;
  return out;
}

/** Every string inside a JSON value, redacted (an action's url, text, target, ...). */
function redactValue(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, redact)]));
  }
  return value;
}
