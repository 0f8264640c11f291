// Secrets by name, in one place: how a task names one (`{{secret.NAME}}`), where a worker finds its
// value (`COASTY_SECRET_NAME`), and how the placeholder is filled in right before the POST. Pure and
// sandbox-safe: the workflow checks names, the activity fills values in; masking them again in
// what comes back is activities/secrets.ts.

/** The environment prefix of every secret a worker holds. */
export const SECRET_PREFIX = 'COASTY_SECRET_';

/** What a secret's NAME may be. */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]*$/;

/** A well-formed `{{secret.NAME}}` placeholder, spaces inside the braces allowed. */
const SECRET_REF = /\{\{\s*secret\.([A-Z][A-Z0-9_]*)\s*\}\}/g;

export function secretEnvName(name: string): string {
  return `${SECRET_PREFIX}${name}`;
}

export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
  readonly secretNames: string[];
  readonly envNames: string[];
  constructor(secretNames: string[]) {
    const envNames = secretNames.map(secretEnvName);
    super(
      `missing secret${envNames.length > 1 ? 's' : ''}: set ${envNames.join(', ')} in the worker's environment`,
    );
    this.secretNames = secretNames;
    this.envNames = envNames;
  }
}

/** The names of every `{{secret.NAME}}` in `text`, once each, in order. */
export function listSecretNames(text: string): string[] {
  return [...new Set([...text.matchAll(SECRET_REF)].map((m) => m[1] ?? ''))];
}

/**
 * Replaces {{secret.NAME}} with lookup(NAME). Throws MissingSecretError naming every
 * missing COASTY_SECRET_<NAME>; never puts a value in an error.
 */
export function substituteSecrets(text: string, lookup: (name: string) => string | undefined): string {
  const missing = listSecretNames(text).filter((name) => lookup(name) === undefined);
  if (missing.length > 0) throw new MissingSecretError(missing);
  return text.replace(SECRET_REF, (_raw: string, name: string) => lookup(name) ?? '');
}
