// The batch report: CSV in the input's shape, and the compact rows behind it (pure; no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentRunResult } from '../../workflows/agent-run';
import {
  batchResult,
  newBatchState,
  recordDoneBefore,
  recordFailure,
  recordSuccess,
  RESULT_BUDGET_CHARS,
  RESULT_CHARS,
  spendFailedAttempt,
} from '../../workflows/batch-state';
import { batchReportCsv } from '../../workflows/report';
import { batch } from './specs';

const run = (over: Partial<AgentRunResult> = {}): AgentRunResult => ({
  runId: 'run_1',
  status: 'succeeded',
  steps: 2,
  costUsd: 0.1,
  result: 'Done, REF-1',
  error: null,
  approvals: [],
  delivery: { eventsHandled: 4, reconnects: 0, streamRetries: 0 },
  ...over,
});

test('the report lists every item in input order with its outcome; costs add up over attempts', () => {
  const spec = batch(3);
  const state = newBatchState(spec);
  recordSuccess(state, { index: 2, attempt: 1, costCents: 0, steps: 0 }, run({ runId: 'run_c' }));
  recordDoneBefore(state, 0);
  const spent = spendFailedAttempt(
    state,
    { index: 1, attempt: 1, costCents: 0, steps: 0 },
    run({ status: 'failed', costUsd: 0.05, steps: 1 }),
  );
  const again = spendFailedAttempt(
    state,
    { ...spent, attempt: 2 },
    run({ runId: 'run_b2', status: 'failed', costUsd: 0.05, steps: 1 }),
  );
  recordFailure(state, again, 'run_b2', { type: 'agent_error', message: 'x'.repeat(500) });

  const result = batchResult(spec, state);
  assert.deepEqual([result.succeeded, result.failed, result.skipped, result.costUsd], [1, 1, 1, 0.2]);
  assert.deepEqual(result.items[0], { key: 'inv-001', status: 'skipped', costUsd: 0, steps: 0 });
  const failed = result.items[1]!;
  assert.deepEqual(
    [failed.status, failed.runId, failed.costUsd, failed.steps, failed.attempts],
    ['failed', 'run_b2', 0.1, 2, 2],
  );
  assert.ok(failed.error!.message.length <= 200);
  assert.deepEqual(result.items[2], {
    key: 'inv-003',
    status: 'succeeded',
    runId: 'run_c',
    costUsd: 0.1,
    steps: 2,
    result: 'Done, REF-1',
  });
});

test('result texts are cut and, past a total budget, omitted and counted', () => {
  const spec = batch(1);
  const state = newBatchState(spec);
  state.resultChars = RESULT_BUDGET_CHARS - 10;
  recordSuccess(state, { index: 0, attempt: 1, costCents: 0, steps: 0 }, run({ result: 'y'.repeat(5000) }));
  assert.equal(batchResult(spec, state).items[0]!.result, undefined);
  assert.equal(state.resultsOmitted, 1);

  const fresh = newBatchState(spec);
  recordSuccess(fresh, { index: 0, attempt: 1, costCents: 0, steps: 0 }, run({ result: 'y'.repeat(5000) }));
  assert.equal(batchResult(spec, fresh).items[0]!.result!.length, RESULT_CHARS);
});

test('the CSV keeps the input columns and quotes what needs quoting', () => {
  const spec = batch(2, { csvColumns: ['id', 'amount', 'status'] });
  spec.items[0]!.fields.status = 'open, "new"';
  spec.items[1]!.fields.status = 'open';
  const state = newBatchState(spec);
  recordSuccess(
    state,
    { index: 0, attempt: 1, costCents: 0, steps: 0 },
    run({ result: 'line one\nline two' }),
  );
  recordFailure(state, { index: 1, attempt: 1, costCents: 5, steps: 1 }, 'run_2', {
    type: 'agent_error',
    message: 'no',
  });
  const csv = batchReportCsv(batchResult(spec, state), spec);
  assert.equal(
    csv,
    [
      'id,amount,status,outcome_status,run_id,cost_usd,steps,attempts,result,error',
      'inv-001,10,"open, ""new""",succeeded,run_1,0.10,2,1,"line one\nline two",',
      'inv-002,20,open,failed,run_2,0.05,1,1,,agent_error: no',
      '',
    ].join('\n'),
  );
});
