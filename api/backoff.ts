import { MAX_SERVER_DELAY_MS } from './errors';

export interface ReconnectPolicy {
  /** Consecutive failed connections (none delivered an event) before giving up; 0 = never reconnect. */
  maxAttempts: number;
  /** ...or this long since the first failure of the streak, whichever comes first. */
  maxElapsedMs: number;
  /** Base delay until the server sends `retry:`; the server's hint then replaces it. */
  initialDelayMs: number;
  /** Cap of the exponential part; never lowers the server's hint or a Retry-After. */
  maxDelayMs: number;
  /**
   * Cap of the server's `retry:` hint and Retry-After, and so of every delay, the first included:
   * a server asking for an hour would leave a pause or the end of the run unseen that long.
   */
  maxServerDelayMs: number;
  /** Extra random delay, as a fraction of the delay (0.25: up to 25 % more). Never less. */
  jitter: number;
  /** A connection open this long counts as healthy even without events (quiet runs). */
  healthyAfterMs: number;
}

export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  maxAttempts: 8,
  maxElapsedMs: 60_000,
  initialDelayMs: 1_000,
  maxDelayMs: 15_000,
  maxServerDelayMs: MAX_SERVER_DELAY_MS,
  jitter: 0.25,
  healthyAfterMs: 30_000,
});

/** Node's timers fire at once beyond this (a 32-bit signed delay). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Delay before reconnect number `failures` (1 = first): hint x 2^(n-1), capped at maxDelayMs, never
 * under the hint or Retry-After, plus jitter; the hint and Retry-After are first capped at
 * maxServerDelayMs, and no delay exceeds it.
 */
export function reconnectDelayMs(
  failures: number,
  hintMs: number,
  policy: Pick<ReconnectPolicy, 'maxDelayMs' | 'jitter'> & Partial<Pick<ReconnectPolicy, 'maxServerDelayMs'>>,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxServerDelayMs ?? MAX_SERVER_DELAY_MS, MAX_TIMER_MS);
  const hint = Math.min(hintMs, cap);
  const exponential = Math.min(policy.maxDelayMs, hint * 2 ** Math.max(0, failures - 1));
  const base = Math.max(hint, exponential, Math.min(retryAfterMs, cap));
  return Math.min(cap, Math.round(base * (1 + policy.jitter * random())));
}

/** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
