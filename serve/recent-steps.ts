// The last few steps (action and observation) before a run's pause, read from the runs API: Temporal
// keeps only the last action. Needs the runs API key, which stays in serve. The agent may echo a
// secret in an observation: every text is masked with the COASTY_SECRET_* values serve has, the way
// workers mask what they write to Temporal (give serve the workers' secrets).
import type { Redact } from '../activities/secrets';
import type { RunsClient } from '../api/runs-client';
import type { RunEvent, StepAction } from '../api/types';

export interface RecentStep {
  at: string;
  action?: StepAction;
  observation?: string;
}

const KEEP = 5;
const READ_TIMEOUT_MS = 5000;
const MAX_CACHED = 1000;

export class RecentSteps {
  private readonly cache = new Map<string, Promise<RecentStep[]>>();

  constructor(
    private readonly runs: RunsClient,
    private readonly redact: Redact,
  ) {}

  /** The steps before the pause `requestId` (the id of its awaiting_human event); [] if unreadable. */
  before(runId: string, requestId: string): Promise<RecentStep[]> {
    const key = `${runId}#${requestId}`;
    let steps = this.cache.get(key);
    if (!steps) {
      steps = this.read(runId, requestId).catch(() => []);
      this.cache.set(key, steps);
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    }
    return steps;
  }

  private async read(runId: string, requestId: string): Promise<RecentStep[]> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('timed out')), READ_TIMEOUT_MS);
    const recent: RunEvent[] = [];
    try {
      for await (const event of this.runs.streamEvents(runId, { signal: abort.signal, maxReconnects: 1 })) {
        if (event.type === 'step') {
          recent.push(event);
          if (recent.length > KEEP) recent.shift();
        }
        if (event.id === requestId) break;
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return recent.map((event) => ({
      at: event.timestamp,
      ...(event.action ? { action: maskAction(event.action, this.redact) } : {}),
      ...(event.observation ? { observation: this.redact(event.observation) } : {}),
    }));
  }
}

function maskAction(action: StepAction, redact: Redact): StepAction {
  return JSON.parse(JSON.stringify(action), (_key, value: unknown) =>
    typeof value === 'string' ? redact(value) : value,
  ) as StepAction;
}
