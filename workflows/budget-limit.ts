// The budget of a running chain or batch, raised by a person through a signal or an update.
import { log, setHandler } from '@temporalio/workflow';
import { centsToUsd } from '../core/money';
import { raisedBudgetCents } from './budget';
import { raiseBudgetSignal, raiseBudgetUpdate, type RaiseBudget } from './messages';

export class BudgetLimit {
  constructor(
    public maxCostCents: number | undefined,
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Sets the raiseBudget handlers; call at the top of the workflow. */
  listen(): this {
    setHandler(raiseBudgetSignal, (raise: RaiseBudget) => {
      try {
        this.raise(raise);
      } catch (error) {
        // A signal cannot be refused; the update (same name) gives the caller this reason.
        log.warn(`raiseBudget signal ignored: ${(error as Error).message}`);
      }
    });
    setHandler(
      raiseBudgetUpdate,
      (raise: RaiseBudget) => {
        this.raise(raise);
        return { maxCostUsd: centsToUsd(this.maxCostCents ?? 0) };
      },
      { validator: (raise: RaiseBudget) => void raisedBudgetCents(this.maxCostCents, raise?.maxCostUsd) },
    );
    return this;
  }

  private raise(raise: RaiseBudget): void {
    const cents = raisedBudgetCents(this.maxCostCents, raise?.maxCostUsd);
    log.info(`budget raised from ${this.maxCostCents} to ${cents} cents${raise.by ? ` by ${raise.by}` : ''}`);
    this.maxCostCents = cents;
    this.onChange();
  }
}
