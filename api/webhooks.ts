// The runs API's webhooks, both ends of them: the signature the API puts on each delivery
// (`Coasty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`), and the route our
// receiver reads from the webhook_url a worker gives a run (which workflow to tell, and a token that
// only a holder of the webhook secret can make, so a forged URL cannot reach a stranger's workflow).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_URL_VARIABLE = 'COASTY_WEBHOOK_URL';
export const WEBHOOK_SECRET_VARIABLE = 'COASTY_WEBHOOK_SECRET';
/** Deliveries older (or newer) than this are refused: a captured one cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;
export const SIGNATURE_HEADER = 'coasty-signature';
export const EVENT_ID_HEADER = 'coasty-event-id';

export interface WebhookSettings {
  /** The receiver's public URL (`POST /webhooks/runs` of serve, or `coasty-temporal webhooks`). */
  url: string;
  /** The runs API's webhook secret: it signs deliveries and our route tokens. */
  secret: string;
}

export type SignatureRefusal = 'missing' | 'malformed' | 'stale' | 'mismatch';

export class WebhookConfigError extends Error {
  override name = 'WebhookConfigError';
}

/** COASTY_WEBHOOK_URL and COASTY_WEBHOOK_SECRET, both or neither; a clear error for half or a bad URL. */
export function webhookSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookSettings | undefined {
  const url = env[WEBHOOK_URL_VARIABLE]?.trim();
  const secret = env[WEBHOOK_SECRET_VARIABLE]?.trim();
  if (!url && !secret) return undefined;
  if (!url || !secret) {
    const missing = url ? WEBHOOK_SECRET_VARIABLE : WEBHOOK_URL_VARIABLE;
    throw new WebhookConfigError(
      `${missing} is not set: webhook delivery needs both ${WEBHOOK_URL_VARIABLE} (the receiver's public URL, ` +
        `ending in /webhooks/runs) and ${WEBHOOK_SECRET_VARIABLE} (the runs API's webhook secret)`,
    );
  }
  return { url: checkedReceiverUrl(url, WEBHOOK_URL_VARIABLE), secret };
}

export function checkedReceiverUrl(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookConfigError(
      `${where} is not a URL: "${raw}" (e.g. https://inbox.example.com/webhooks/runs)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookConfigError(`${where} must be an http(s) URL, got "${raw}"`);
  if (url.search || url.hash)
    throw new WebhookConfigError(
      `${where} must not carry a query or fragment (we add our own), got "${raw}"`,
    );
  return url.toString();
}

export function signPayload(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

/**
 * Checks a delivery's signature over its raw body; undefined when it is good, else why not. Several
 * v1 values are allowed (a secret being rotated), each compared in constant time; the age is checked
 * only after a signature matched, so a forger learns nothing from the timestamp check.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  nowMs = Date.now(),
): SignatureRefusal | undefined {
  if (!header) return 'missing';
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const field = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(field)) timestamp ??= Number(field);
    else if (key === 'v1') signatures.push(field);
  }
  if (timestamp === undefined || signatures.length === 0) return 'malformed';
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const matches = (given: string) =>
    /^[0-9a-f]{64}$/i.test(given) && timingSafeEqual(Buffer.from(given, 'hex'), expected);
  if (!signatures.some(matches)) return 'mismatch';
  return Math.abs(nowMs / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS ? 'stale' : undefined;
}

/** The token that proves our worker made this route: HMAC of the workflow id with the webhook secret. */
export function routeToken(secret: string, workflowId: string): string {
  return createHmac('sha256', secret).update(`coasty-route\n${workflowId}`).digest('hex').slice(0, 32);
}

/** The webhook_url a worker gives a run: the receiver's URL with the workflow to tell and its token. */
export function webhookUrlFor({ url, secret }: WebhookSettings, workflowId: string): string {
  const target = new URL(url);
  target.searchParams.set('workflow', workflowId);
  target.searchParams.set('token', routeToken(secret, workflowId));
  return target.toString();
}

/** The workflow a delivery is for, when its token is right; undefined for a forged or missing route. */
export function routedWorkflowId(
  secret: string,
  query: { workflow?: unknown; token?: unknown },
): string | undefined {
  const { workflow, token } = query;
  if (typeof workflow !== 'string' || typeof token !== 'string' || !workflow || workflow.length > 1000)
    return undefined;
  const expected = Buffer.from(routeToken(secret, workflow));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected) ? workflow : undefined;
}
