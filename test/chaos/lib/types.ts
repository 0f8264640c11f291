// What every chaos scenario reports: one row of the summary table (see docs/reliability.md).

export interface ChaosRow {
  scenario: string;
  /** Workflows started (for the bad-input rows: inputs tried). */
  runs: number;
  /** Workflows that returned a result (whatever the run's own status). */
  completed: number;
  /** Workflows that failed with one of the project's typed errors (bad input: inputs refused as documented). */
  typedErrors: number;
  /**
   * Workflows that neither completed nor failed with a typed error, plus events of the emulator's
   * truth that a completed run did not count, plus steps it did not count.
   */
  lost: number;
  /**
   * Runs created beyond one per workflow, plus steps billed beyond the truth, plus events or steps
   * a run counted more than once.
   */
  duplicated: number;
  /** Stream reconnects inside activity attempts, summed over the completed runs. */
  reconnects: number;
  /** Stream activity attempts that ended in a retry, summed over the completed runs. */
  retries: number;
  /** Wall time from the first workflow start until every run was settled. */
  seconds: number;
  /** Histories and worker logs that held the API key or a secret's value. */
  leaks: number;
  /** Histories and logs searched for leaks. */
  scanned: number;
  /** Faults the emulator injected (errors, drops, lost responses), for context. */
  faults: number;
  /** What the scenario did (kills, outage length, ...). */
  notes: string[];
  /** Every lost or duplicated item and every failed expectation, spelled out. */
  problems: string[];
}

export interface MachineFacts {
  cpuModel: string;
  cpus: number;
  totalMemoryGb: number;
  node: string;
  os: string;
  date: string;
}

export interface ChaosReport {
  form: 'short' | 'long';
  n: number;
  machine: MachineFacts;
  seconds: number;
  ok: boolean;
  rows: ChaosRow[];
}

export function emptyRow(scenario: string): ChaosRow {
  return {
    scenario,
    runs: 0,
    completed: 0,
    typedErrors: 0,
    lost: 0,
    duplicated: 0,
    reconnects: 0,
    retries: 0,
    seconds: 0,
    leaks: 0,
    scanned: 0,
    faults: 0,
    notes: [],
    problems: [],
  };
}

/** A row passes when nothing is lost, duplicated or leaked and every expectation held. */
export function rowPassed(row: ChaosRow): boolean {
  return row.lost === 0 && row.duplicated === 0 && row.leaks === 0 && row.problems.length === 0;
}
