// Per-key token bucket.

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit: { requestsPerSecond: number; burst: number } | null) {}

  // Returns 0 when the request may pass, else the seconds to wait (for Retry-After).
  take(key: string, nowMs: number = Date.now()): number {
    if (!this.limit) return 0;
    const { requestsPerSecond, burst } = this.limit;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * requestsPerSecond);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerSecond));
  }

  reset(): void {
    this.buckets.clear();
  }
}
