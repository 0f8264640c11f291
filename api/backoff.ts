export interface ReconnectPolicy {
  /** Consecutive failed connections (none delivered an event) before giving up; 0 = never reconnect. */
  maxAttempts: number;
  /** ...or this long since the first failure of the streak, whichever comes first. */
  maxElapsedMs: number;
  /** Base delay until the server sends `retry:`; the server's hint then replaces it. */
  initialDelayMs: number;
  /** Cap of the exponential part; never lowers the server's hint or a Retry-After. */
  maxDelayMs: number;
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
  jitter: 0.25,
  healthyAfterMs: 30_000,
});

/** Delay before reconnect number `failures` (1 = first): hint x 2^(n-1), capped, plus jitter. */
export function reconnectDelayMs(
  failures: number,
  hintMs: number,
  policy: Pick<ReconnectPolicy, 'maxDelayMs' | 'jitter'>,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, hintMs * 2 ** Math.max(0, failures - 1));
  const base = Math.max(hintMs, exponential, retryAfterMs);
  return Math.round(base * (1 + policy.jitter * random()));
}

/** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
