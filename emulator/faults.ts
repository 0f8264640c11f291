// Fault injection. Every decision draws from one PRNG seeded by the fault config (or the emulator
// seed), so the same sequence of requests meets the same faults.
import type { EndpointClass, ErrorFault, FaultConfig, MalformedMode } from './config';
import { createPrng, hashSeed, type Prng } from './prng';

export interface StreamFaultPlan {
  resendOnResume: number;
  malformed: MalformedMode | null;
}

export class FaultInjector {
  private config: FaultConfig = {};
  private prng: Prng;
  private drops = 0;

  constructor(
    private readonly baseSeed: number,
    initial: FaultConfig,
  ) {
    this.prng = createPrng(0);
    this.set(initial);
  }

  get current(): FaultConfig {
    return this.config;
  }

  set(config: FaultConfig): void {
    this.config = structuredClone(config);
    this.prng = createPrng(hashSeed(config.seed ?? this.baseSeed, 'faults'));
    this.drops = 0;
  }

  headerDelayMs(cls: EndpointClass): number {
    const { delayHeadersMs, delayEndpoints } = this.config;
    if (!delayHeadersMs) return 0;
    return appliesTo(delayEndpoints, cls) ? delayHeadersMs : 0;
  }

  errorFor(cls: EndpointClass): ErrorFault | null {
    for (const fault of this.config.errors ?? []) {
      if (appliesTo(fault.endpoints, cls) && this.prng.chance(fault.rate)) return fault;
    }
    return null;
  }

  loseResponse(cls: EndpointClass): boolean {
    const lost = this.config.lostResponses;
    return !!lost && appliesTo(lost.endpoints, cls) && this.prng.chance(lost.rate);
  }

  streamPlan(): StreamFaultPlan {
    const s = this.config.stream ?? {};
    return {
      resendOnResume: s.resendOnResume ?? 0,
      malformed: s.malformed ?? null,
    };
  }

  // Called after each non-terminal event written on a connection; reads the current config so
  // faults switched at run time reach streams that are already open.
  shouldDrop(writtenOnConnection: number): boolean {
    const s = this.config.stream;
    if (!s) return false;
    if (s.maxDrops !== undefined && this.drops >= s.maxDrops) return false;
    const drop =
      (s.dropAfterEvents !== undefined && writtenOnConnection >= s.dropAfterEvents) ||
      this.prng.chance(s.dropProbability ?? 0);
    if (drop) this.drops++;
    return drop;
  }
}

function appliesTo(endpoints: readonly EndpointClass[] | undefined, cls: EndpointClass): boolean {
  return !endpoints || endpoints.length === 0 || endpoints.includes(cls);
}
