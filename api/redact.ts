// Secrets out of text a server sent, before that text is cut or collapsed into a message. Pure
// (no imports, no I/O), like errors.ts, so that workflow code may import what imports it.

export type Redact = (text: string) => string;

/** A value never to show, and what to show instead. */
export interface Secret {
  value: string;
  label: string;
}

export const REDACTED = '[REDACTED]';

/** Does nothing: the redactor of a worker without secrets. */
export const noSecrets: Redact = (text) => text;

const hex4 = (code: number) => code.toString(16).padStart(4, '0');

/**
 * The forms in which `value` can appear in raw text: as is, JSON-escaped the way JSON.stringify
 * writes it (`"`, `\`, control characters), and JSON-escaped ASCII-only the way many other
 * encoders write it (`\u00e9`, `\/`). A server's raw body or a malformed event carries these.
 */
export function secretForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const ascii = json.replace(/[\u0080-\uffff]/g, (char) => `\\u${hex4(char.charCodeAt(0))}`);
  const forms = new Set([value, json, ascii, ascii.replace(/\//g, '\\/')]);
  for (const form of [...forms])
    forms.add(form.replace(/\\u([0-9a-f]{4})/g, (_, code: string) => `\\u${code.toUpperCase()}`));
  return [...forms].filter((form) => form !== '');
}

/**
 * Replaces every form (secretForms) of every secret with its label, longest first, so that a
 * secret containing another is replaced whole. Run it on the raw text, before anything is cut
 * or whitespace collapsed: a cut secret or one with runs of whitespace no longer matches after.
 */
export function secretRedactor(secrets: readonly Secret[]): Redact {
  const forms = secrets
    .filter((secret) => secret.value !== '')
    .flatMap((secret) => secretForms(secret.value).map((form) => ({ form, label: secret.label })))
    .sort((a, b) => b.form.length - a.form.length);
  if (forms.length === 0) return noSecrets;
  return (text) => {
    let out = text;
    for (const { form, label } of forms) if (out.includes(form)) out = out.split(form).join(label);
    return out;
  };
}

/** Anything after `Bearer `: a credential we do not know, in text a server or proxy echoed. */
export function redactBearer(text: string): string {
  return text.replace(/(bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`);
}
