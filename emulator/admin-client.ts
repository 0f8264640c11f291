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
