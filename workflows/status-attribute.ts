// A workflow's CoastyStatus, in one place for agentRun, runChain and runBatch.
import { coastyStatusKey } from './messages';
import { recordBudgetWait } from './metrics';
import { upsertSearchAttributes } from './search-attributes';

/** A workflow's CoastyStatus: kept for its progress query, written to the server when it changes. */
export class StatusAttribute<S extends string | undefined> {
  constructor(private current: S) {}

  get value(): S {
    return this.current;
  }

  set(next: NonNullable<S>): void {
    if (next === this.current) return;
    this.current = next;
    if (next === 'awaiting_budget') recordBudgetWait();
    this.write();
  }

  /** Writes the current value even if the server has it (a start that did not set it). */
  write(): void {
    if (this.current !== undefined) upsertSearchAttributes([{ key: coastyStatusKey, value: this.current }]);
  }
}
