// A tiny typed client for the emulator's admin API (/_emulator), for tests and scripts.
import type { Run, RunEvent } from '../api/types';
import type { AgentPlan } from './agent';
import type { Behaviour, FaultConfig } from './config';
import type { Counters } from './counters';

export interface ScriptRequest extends Behaviour {
  /** Regex the task must match; without it the script goes to the next created run. */
  match?: string;
  flags?: string;
  /** How many runs this script applies to (default 1). */
  times?: number;
}

export interface RunTruth {
  run: Run;
  plan: AgentPlan;
  open_streams: number;
}

/** A run waiting at a hold (`holdAt`, `[hold@K]`) until the admin API releases it. */
export interface HeldRun {
  run_id: string;
  task: string;
  /** The step it waits before (steps + 1: before its terminal event). */
  step: number;
  since: string;
  /** Streams open on the run right now: someone follows it while it waits. */
  open_streams: number;
}

export interface ReleaseFilter {
  runId?: string;
  /** Regex on the task. */
  match?: string;
  flags?: string;
}

export interface EmulatorHealth {
  ok: true;
  pid: number;
  open_streams: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
}

export class EmulatorAdminError extends Error {
  override name = 'EmulatorAdminError';
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`emulator admin API answered ${status}: ${body}`);
  }
}

export class EmulatorAdmin {
  /** @param url the emulator's origin, e.g. http://127.0.0.1:43123 */
  constructor(
    readonly url: string,
    private readonly adminKey: string,
  ) {}

  health(): Promise<EmulatorHealth> {
    return this.call('GET', '/health');
  }

  counters(): Promise<Counters> {
    return this.call('GET', '/counters');
  }

  reset(): Promise<{ ok: true }> {
    return this.call('POST', '/reset');
  }

  script(...scripts: ScriptRequest[]): Promise<{ pending: number }> {
    return this.call('POST', '/script', scripts);
  }

  scripts(): Promise<{ data: Array<Record<string, unknown>> }> {
    return this.call('GET', '/script');
  }

  clearScripts(): Promise<{ pending: number }> {
    return this.call('DELETE', '/script');
  }

  faults(): Promise<FaultConfig> {
    return this.call('GET', '/faults');
  }

  setFaults(faults: FaultConfig): Promise<FaultConfig> {
    return this.call('PUT', '/faults', faults);
  }

  clearFaults(): Promise<FaultConfig> {
    return this.call('DELETE', '/faults');
  }

  /**
   * Key rotation: from now on only these API keys are accepted (the admin key is unchanged), and
   * every open stream of a key no longer accepted is cut, as a revoked key loses its sessions.
   */
  setApiKeys(keys: string[]): Promise<{ accepted: number; streams_closed: number }> {
    return this.call('PUT', '/api-keys', { keys });
  }

  async holds(): Promise<HeldRun[]> {
    return (await this.call<{ data: HeldRun[] }>('GET', '/holds')).data;
  }

  /** Lets held runs go on (all of them, or those the filter names); says which went on. */
  release(filter: ReleaseFilter = {}): Promise<{ released: number; run_ids: string[] }> {
    return this.call('POST', '/holds/release', {
      ...(filter.runId === undefined ? {} : { run_id: filter.runId }),
      ...(filter.match === undefined ? {} : { match: filter.match, flags: filter.flags }),
    });
  }

  /**
   * Resolves with the held runs once `done(held)` says so; a condition wait (polls every 50 ms),
   * bounded by `timeoutMs`, with the last state in the error.
   */
  async waitForHolds(
    what: string,
    done: (held: HeldRun[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<HeldRun[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const held = await this.holds();
      if (done(held)) return held;
      if (Date.now() > deadline) {
        throw new Error(
          `emulator: ${what} not reached within ${timeoutMs / 1000} s (${held.length} runs held: ` +
            `${held
              .slice(0, 5)
              .map((h) => `${h.run_id} at step ${h.step}, ${h.open_streams} streams`)
              .join('; ')})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  run(runId: string): Promise<RunTruth> {
    return this.call('GET', `/runs/${encodeURIComponent(runId)}`);
  }

  async runEvents(runId: string): Promise<RunEvent[]> {
    const body = await this.call<{ data: RunEvent[] }>('GET', `/runs/${encodeURIComponent(runId)}/events`);
    return body.data;
  }

  config(): Promise<Record<string, unknown>> {
    return this.call('GET', '/config');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/_emulator${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new EmulatorAdminError(res.status, text);
    return JSON.parse(text) as T;
  }
}
