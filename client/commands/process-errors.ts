// The CLI's words for the programmatic client's errors: one sentence that says what to do, and an exit code.
import { dollars } from '../../core/money';
import {
  AmbiguousPause,
  InvalidDecision,
  NothingAwaiting,
  ProcessClosed,
  ProcessNotFound,
  ProgressUnavailable,
  RequestRefused,
  StaleRequest,
  type ProcessError,
} from '../process-errors';
import { CliError, UsageError } from '../errors';

export function cliErrorFor(error: ProcessError, verb: 'approve' | 'reject' = 'approve'): CliError {
  const id = error.workflowId;
  if (error instanceof ProcessNotFound) {
    return new CliError(
      `No process with id "${id}" (list them with: npx coasty-temporal list). ` +
        'Is this the Temporal server and namespace it runs on?',
    );
  }
  if (error instanceof ProgressUnavailable)
    return new CliError(`Cannot read ${id}'s progress: ${error.reason}`);
  if (error instanceof NothingAwaiting) {
    if (error.budget) {
      return new CliError(
        `${id} waits for a larger budget, not an approval: ` +
          `npx coasty-temporal raise-budget ${id} <usd> (needs ${dollars(error.budget.neededUsd)})`,
      );
    }
    return new CliError(`${id} is not waiting for a person (status ${error.status}).`);
  }
  if (error instanceof StaleRequest)
    return new CliError(`${id} has no open pause ${error.requestId} (${error.detail}).`);
  if (error instanceof AmbiguousPause) {
    const ids = error.pauses.map((pause) => `  npx coasty-temporal ${verb} ${pause.workflowId}`).join('\n');
    return new UsageError(
      `${error.pauses.length} runs of ${id} wait for a person; name one, or add --all:\n${ids}`,
    );
  }
  if (error instanceof RequestRefused)
    return new CliError(`${id} refused the ${error.what}: ${error.reason}`);
  if (error instanceof ProcessClosed)
    return new CliError(`${id} has ended already (${error.execution}): nothing to cancel.`);
  if (error instanceof InvalidDecision) return new UsageError(`Not sent: ${error.reason}.`);
  return new CliError(error.message);
}
