// Before a local stack stops: the emulator keeps its runs in memory, so a run in flight when it stops
// is gone when the stack starts again (the step would fail with "run not found"). Processes are safe in
// Temporal's database; runs are not. So the stack keeps going until no run is in flight, or until a
// second Ctrl-C says "stop now anyway".
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE_NAMES } from '../workflows/names';

const RUNS_IN_FLIGHT = `WorkflowType IN ('${WORKFLOW_TYPE_NAMES.agentRun}', '${WORKFLOW_TYPE_NAMES.batchItem}') AND ExecutionStatus = 'Running'`;

export async function waitForRunsToSettle(client: Client, log: (line: string) => void): Promise<void> {
  const stopNow = new AbortController();
  const onSignal = () => stopNow.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let said = '';
  try {
    while (!stopNow.signal.aborted) {
      const running = await countOrZero(client, RUNS_IN_FLIGHT);
      if (running === 0) return;
      const waiting = await countOrZero(client, `${RUNS_IN_FLIGHT} AND CoastyStatus = 'awaiting_human'`);
      const text =
        `${running} run${running === 1 ? '' : 's'} in flight at the local emulator, which keeps runs in memory: ` +
        'the local stack keeps going until they end' +
        (waiting > 0
          ? ` (${waiting} wait${waiting === 1 ? 's' : ''} for a person: npx coasty-temporal list --awaiting)`
          : '') +
        '. Ctrl-C again stops now (those runs would fail when the stack starts again).';
      if (text !== said) log(text);
      said = text;
      await sleep(500, undefined, { signal: stopNow.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function countOrZero(client: Client, query: string): Promise<number> {
  try {
    return (await client.workflow.count(query)).count;
  } catch {
    return 0; // visibility unavailable: do not hold the stop hostage
  }
}
