// Operators and their sessions: a token signs in (compared in constant time), a session cookie keeps
// them signed in, and each session has its own CSRF token that every POST must carry.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Operators } from './config';

export const SESSION_COOKIE = 'coasty_session';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  operator: string;
  csrf: string;
  expiresAt: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The operator whose token this is; every token is compared, so timing tells nothing. */
export function operatorOfToken(operators: Operators, given: string): string | undefined {
  const wanted = digest(given);
  let found: string | undefined;
  for (const [token, name] of operators) if (timingSafeEqual(digest(token), wanted)) found = name;
  return found;
}

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  create(operator: string, now = Date.now()): Session {
    if (this.byId.size >= MAX_SESSIONS) this.prune(now);
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      operator,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: now + SESSION_TTL_MS,
    };
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id) return undefined;
    const session = this.byId.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.byId.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  private prune(now: number): void {
    for (const [id, session] of this.byId) if (session.expiresAt <= now) this.byId.delete(id);
  }
}
