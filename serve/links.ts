// One-click links: an approve or reject URL signed with HMAC-SHA256 (COASTY_LINK_SECRET) over the
// workflow id, the request id of the pause, the action, who made it and its expiry. Opening one only
// shows the question (mail and chat clients prefetch links); its confirm button POSTs it back.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedLink {
  workflowId: string;
  requestId: string;
  action: 'approve' | 'reject';
  /** Who made the link; recorded with the decision as "<by> (signed link)". */
  by: string;
  /** Unix seconds. */
  expiresAt: number;
}

export type LinkCheck =
  | { ok: true; link: SignedLink; signature: string }
  | { ok: false; problem: 'malformed' | 'forged' | 'expired'; message: string };

export const LINK_PATH = 'link';
const FIELDS = ['w', 'r', 'a', 'b', 'e', 's'] as const;

function signatureOf(link: SignedLink, secret: string): string {
  const text = ['coasty-link-v1', link.workflowId, link.requestId, link.action, link.by, link.expiresAt].join(
    '\n',
  );
  return createHmac('sha256', secret).update(text).digest('base64url');
}

export function signLink(link: SignedLink, secret: string): URLSearchParams {
  return new URLSearchParams({
    w: link.workflowId,
    r: link.requestId,
    a: link.action,
    b: link.by,
    e: String(link.expiresAt),
    s: signatureOf(link, secret),
  });
}

/** The link's URL under serve's public address. */
export function linkUrl(base: URL, link: SignedLink, secret: string): string {
  const url = new URL(LINK_PATH, base);
  url.search = signLink(link, secret).toString();
  return url.toString();
}

export function checkLink(
  params: Record<string, unknown>,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): LinkCheck {
  const values: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const field of FIELDS) {
    const value = params[field];
    if (typeof value !== 'string' || value === '' || value.length > 1000) {
      return {
        ok: false,
        problem: 'malformed',
        message: `the link has no valid "${field}" part: was it cut short?`,
      };
    }
    values[field] = value;
  }
  const action = values.a;
  if (action !== 'approve' && action !== 'reject') {
    return { ok: false, problem: 'malformed', message: 'the link names no action (approve or reject)' };
  }
  if (!/^\d{1,12}$/.test(values.e!))
    return { ok: false, problem: 'malformed', message: 'the link has no valid expiry' };
  const link: SignedLink = {
    workflowId: values.w!,
    requestId: values.r!,
    action,
    by: values.b!,
    expiresAt: Number(values.e),
  };
  const expected = Buffer.from(signatureOf(link, secret));
  const given = Buffer.from(values.s!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      ok: false,
      problem: 'forged',
      message: 'the link is not one this server signed, or part of it was changed',
    };
  }
  if (link.expiresAt <= nowSeconds) {
    return {
      ok: false,
      problem: 'expired',
      message: `the link expired at ${new Date(link.expiresAt * 1000).toISOString()}; ask for a new one (coasty-temporal link)`,
    };
  }
  return { ok: true, link, signature: values.s! };
}

/** A read-only link to a process's event stream, for a page elsewhere (a browser EventSource). */
export interface ReadLink {
  workflowId: string;
  /** Unix seconds. */
  expiresAt: number;
}

function readSignatureOf(link: ReadLink, secret: string): string {
  return createHmac('sha256', secret)
    .update(['coasty-read-v1', link.workflowId, link.expiresAt].join('\n'))
    .digest('base64url');
}

/** The query of a read link: `?expires=<unix s>&signature=<HMAC>`, bound to one process. */
export function readLinkQuery(link: ReadLink, secret: string): URLSearchParams {
  return new URLSearchParams({ expires: String(link.expiresAt), signature: readSignatureOf(link, secret) });
}

/** Why a read link does not open `workflowId`'s events, or undefined when it does. */
export function readLinkProblem(
  workflowId: string,
  params: Record<string, unknown>,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | undefined {
  const { expires, signature } = params;
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string')
    return 'the link has no valid expires and signature: was it cut short?';
  const expected = Buffer.from(readSignatureOf({ workflowId, expiresAt: Number(expires) }, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return 'the link is not one this server signed for this process';
  if (Number(expires) <= nowSeconds)
    return `the link expired at ${new Date(Number(expires) * 1000).toISOString()}`;
  return undefined;
}
