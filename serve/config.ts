// serve's settings from its flags and environment, validated with errors that say what to fix.
// Secrets (operator tokens, the link secret, the notification URL) are kept here and never printed.
import { readFileSync } from 'node:fs';

export const DEFAULT_SERVE_PORT = 8234;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MIN_TOKEN_CHARS = 16;
const MIN_LINK_SECRET_CHARS = 32;

export class ServeConfigError extends Error {
  override name = 'ServeConfigError';
}

/** Operator name by token. */
export type Operators = Map<string, string>;

/** `ops=<token>,finance=<token>` (COASTY_SERVE_TOKENS) or one `name=token` per line (a file; # comments). */
export function parseOperators(text: string, where: string): Operators {
  const operators: Operators = new Map();
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry && !entry.startsWith('#'));
  entries.forEach((entry, index) => {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const token = eq > 0 ? entry.slice(eq + 1).trim() : '';
    const at = `${where}, entry ${index + 1}`;
    if (!NAME.test(name)) {
      throw new ServeConfigError(
        `${at}: expected name=token with a name of letters, digits, . _ - (got ${eq > 0 ? JSON.stringify(name) : 'no "="'})`,
      );
    }
    if (token.length < MIN_TOKEN_CHARS) {
      throw new ServeConfigError(
        `${at}: the token of "${name}" has ${token.length} characters; use at least ${MIN_TOKEN_CHARS} (e.g. openssl rand -hex 24)`,
      );
    }
    if (operators.has(token))
      throw new ServeConfigError(`${at}: "${name}" has the same token as "${operators.get(token)}"`);
    operators.set(token, name);
  });
  return operators;
}

export function operatorsFromEnv(env: NodeJS.ProcessEnv): Operators {
  const inline = env.COASTY_SERVE_TOKENS?.trim();
  const file = env.COASTY_SERVE_TOKENS_FILE?.trim();
  if (inline && file)
    throw new ServeConfigError('set COASTY_SERVE_TOKENS or COASTY_SERVE_TOKENS_FILE, not both');
  if (inline) return parseOperators(inline, 'COASTY_SERVE_TOKENS');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ServeConfigError(`COASTY_SERVE_TOKENS_FILE=${file}: ${(error as Error).message}`);
    }
    return parseOperators(text, file);
  }
  return new Map();
}

export function linkSecretFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const secret = env.COASTY_LINK_SECRET?.trim();
  if (!secret) return undefined;
  if (secret.length < MIN_LINK_SECRET_CHARS) {
    throw new ServeConfigError(
      `COASTY_LINK_SECRET has ${secret.length} characters; use at least ${MIN_LINK_SECRET_CHARS} (e.g. openssl rand -hex 32)`,
    );
  }
  return secret;
}

export function notifyUrlFromEnv(env: NodeJS.ProcessEnv): URL | undefined {
  const raw = env.COASTY_NOTIFY_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ServeConfigError(
      'COASTY_NOTIFY_URL is not a URL (expected https://hooks.slack.com/services/...)',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ServeConfigError(`COASTY_NOTIFY_URL must be http(s), got ${url.protocol}`);
  }
  return url;
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The public address of serve (links, notifications): --public-url / COASTY_SERVE_URL, else where it listens. */
export function publicUrlOf(given: string | undefined, listening: string): URL {
  if (!given) return new URL(listening);
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new ServeConfigError(
      `the public URL "${given}" is not a URL (expected e.g. https://approvals.example.com/)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ServeConfigError(`the public URL must be http(s), got ${url.protocol}`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
