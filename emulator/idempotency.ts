// Idempotency keys: the first successful response per (API key, Idempotency-Key) is kept and
// replayed for the same request; a different request with the same key is a conflict.
import type { Reply } from './http-util';

interface Entry {
  fingerprint: string;
  reply: Reply;
  atMs: number;
}

export type IdempotencyLookup = { kind: 'miss' } | { kind: 'replay'; reply: Reply } | { kind: 'conflict' };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number) {}

  lookup(apiKey: string, key: string, fingerprint: string): IdempotencyLookup {
    const entry = this.entries.get(storeKey(apiKey, key));
    if (!entry) return { kind: 'miss' };
    if (entry.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', reply: entry.reply };
  }

  save(apiKey: string, key: string, fingerprint: string, reply: Reply, nowMs: number = Date.now()): void {
    this.entries.set(storeKey(apiKey, key), { fingerprint, reply, atMs: nowMs });
  }

  sweep(nowMs: number): void {
    for (const [key, entry] of this.entries) if (nowMs - entry.atMs > this.ttlMs) this.entries.delete(key);
  }

  reset(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function storeKey(apiKey: string, key: string): string {
  return `${apiKey}\u0000${key}`;
}
