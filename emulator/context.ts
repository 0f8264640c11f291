// What the HTTP handlers share.
import type { EmulatorConfig } from './config';
import type { CounterState } from './counters';
import type { Engine } from './engine';
import type { FaultInjector } from './faults';
import type { IdempotencyStore } from './idempotency';
import type { RateLimiter } from './rate-limit';
import type { StreamHub } from './stream';

export interface EmulatorContext {
  config: EmulatorConfig;
  counters: CounterState;
  engine: Engine;
  hub: StreamHub;
  faults: FaultInjector;
  idempotency: IdempotencyStore;
  limiter: RateLimiter;
  /** Accepted API keys; the admin API replaces them at run time (key rotation). */
  apiKeys: Set<string>;
  adminKey: string;
  machineSet: ReadonlySet<string>;
  reset(): void;
}
