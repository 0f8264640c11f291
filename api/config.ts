import { ConfigError, quoteBody, redact } from './errors';

export const BASE_URL_VARIABLE = 'COASTY_BASE_URL';
export const API_KEY_VARIABLE = 'COASTY_API_KEY';

export interface RunsApiConfig {
  /** The API root, always ending in `/v1` and without a trailing slash. */
  baseUrl: string;
  apiKey: string;
}

const EXAMPLE = 'e.g. https://api.example.com/v1, or http://127.0.0.1:8080 for the emulator';

/**
 * Accepts the root with or without its `/v1` (and trailing slashes) and returns it with `/v1`:
 * `http://127.0.0.1:8080`, `http://127.0.0.1:8080/` and `http://127.0.0.1:8080/v1/` are the same.
 */
export function normalizeBaseUrl(raw: string, secret?: string): string {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError({
      message: `${BASE_URL_VARIABLE} is not a valid URL: "${quoteBody(redact(text, secret))}" (${EXAMPLE}).`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError({
      message: `${BASE_URL_VARIABLE} must be an http:// or https:// URL, not ${url.protocol} (${EXAMPLE}).`,
    });
  }
  if (url.username || url.password) {
    throw new ConfigError({
      message: `${BASE_URL_VARIABLE} must not contain credentials: put the key in ${API_KEY_VARIABLE}.`,
    });
  }
  if (url.search || url.hash) {
    throw new ConfigError({
      message: `${BASE_URL_VARIABLE} must not have a query or fragment (${EXAMPLE}).`,
    });
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path.endsWith('/v1') ? path : `${path}/v1`}`;
}

/** Printable Latin-1 without spaces: what an Authorization header can carry unquoted. */
function isHeaderSafe(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code > 0xff) return false;
  }
  return true;
}

/** Rejects keys that cannot go in a header, without ever echoing the key. */
export function validateApiKey(apiKey: string | undefined): string {
  if (apiKey === undefined || apiKey.trim() === '') {
    throw new ConfigError({
      message: `${API_KEY_VARIABLE} is not set: export the runs API key (the emulator accepts the key it was started with).`,
    });
  }
  if (!isHeaderSafe(apiKey)) {
    throw new ConfigError({
      message: `${API_KEY_VARIABLE} contains whitespace or control characters (a stray newline or quote?): set it to the bare key.`,
    });
  }
  return apiKey;
}

export function readConfigFromEnv(env: Record<string, string | undefined> = process.env): RunsApiConfig {
  const apiKey = validateApiKey(env[API_KEY_VARIABLE]);
  const rawBaseUrl = env[BASE_URL_VARIABLE];
  if (rawBaseUrl === undefined || rawBaseUrl.trim() === '') {
    throw new ConfigError({
      message: `${BASE_URL_VARIABLE} is not set: set it to the runs API root (${EXAMPLE}).`,
    });
  }
  return { baseUrl: normalizeBaseUrl(rawBaseUrl, apiKey), apiKey };
}
