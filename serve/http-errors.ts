// serve's words for the programmatic client's errors: an HTTP status and a sentence for the page or
// the JSON answer. Bad input found by serve itself is an HttpProblem.
import {
  AmbiguousPause,
  NothingAwaiting,
  ProcessClosed,
  ProcessError,
  ProcessNotFound,
  ProgressUnavailable,
  RequestRefused,
  StaleRequest,
} from '../client/process-errors';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function problemOf(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (!(error instanceof ProcessError)) {
    return new HttpProblem(500, 'internal', 'serve could not do that; its log says why');
  }
  const id = error.workflowId;
  if (error instanceof ProcessNotFound) return new HttpProblem(404, error.code, `no process with id "${id}"`);
  if (error instanceof ProgressUnavailable) return new HttpProblem(503, error.code, error.message);
  if (error instanceof NothingAwaiting) {
    const hint = error.budget
      ? `; it waits for a larger budget (needs $${error.budget.neededUsd.toFixed(2)})`
      : '';
    return new HttpProblem(
      409,
      error.code,
      `${id} is not waiting for a person (status ${error.status})${hint}`,
    );
  }
  if (error instanceof StaleRequest) {
    return new HttpProblem(
      409,
      error.code,
      `the pause ${error.requestId} of ${id} is over (${error.detail}): nothing changed`,
    );
  }
  if (error instanceof AmbiguousPause) {
    return new HttpProblem(
      409,
      error.code,
      `${error.pauses.length} pauses of ${id} wait; name one by its requestId`,
    );
  }
  if (error instanceof RequestRefused) return new HttpProblem(422, error.code, error.message);
  if (error instanceof ProcessClosed)
    return new HttpProblem(409, error.code, `${id} has ended already (${error.execution})`);
  return new HttpProblem(400, error.code, error.message);
}
