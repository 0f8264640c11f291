// The baseline of the batch benchmark: the same number of children, started with the same window
// of concurrency, the same id scheme, reuse and close policies, and the same continue-as-new rule as
// runBatch, but each child does nothing. What Temporal alone costs per item on this server.
import {
  condition,
  continueAsNew,
  ParentClosePolicy,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';

export async function noopChild(): Promise<null> {
  return null;
}

export interface NoopBatchState {
  next: number;
  done: number;
}

export async function noopBatch(
  count: number,
  concurrency: number,
  carried: NoopBatchState = { next: 0, done: 0 },
): Promise<number> {
  const state = { ...carried };
  const info = workflowInfo();
  let inFlight = 0;
  let crash: unknown;
  const launch = () => {
    const index = state.next++;
    inFlight++;
    startChild(noopChild, {
      workflowId: `${info.workflowId}/${index + 1}`,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    })
      .then((handle) => handle.result())
      .then(
        () => {
          inFlight--;
          state.done++;
        },
        (error: unknown) => {
          crash ??= error;
        },
      );
  };
  const hasWork = () => state.next < count;
  const suggested = () => workflowInfo().continueAsNewSuggested && hasWork();
  for (;;) {
    if (crash !== undefined) throw crash;
    if (!hasWork() && inFlight === 0) break;
    if (suggested()) {
      await condition(() => inFlight === 0 || crash !== undefined);
      if (crash !== undefined) continue;
      await continueAsNew<typeof noopBatch>(count, concurrency, state);
    }
    await condition(
      () =>
        (hasWork() && inFlight < concurrency) ||
        crash !== undefined ||
        (!hasWork() && inFlight === 0) ||
        suggested(),
    );
    if (hasWork() && inFlight < concurrency && !suggested() && crash === undefined) launch();
  }
  return state.done;
}
