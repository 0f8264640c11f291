// The chaos suite's short form inside `npm test`, one test per scenario, with N = 20 concurrent runs
// (CHAOS_TEST_N to change it) to keep `npm test` quick on 2 cores; `npm run test:chaos` runs N = 50.
// Each scenario must lose nothing, duplicate nothing, leak nothing, and meet its own expectations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testServerAddress } from '../helpers/temporal';
import { formatTable } from './lib/report';
import { SCENARIOS, runChaosSuite } from './suite';

const n = Number(process.env.CHAOS_TEST_N ?? 20);

for (const entry of SCENARIOS) {
  test(`chaos: ${entry.name} (N = ${n})`, async (t) => {
    const report = await runChaosSuite({
      n,
      long: false,
      temporalAddress: testServerAddress(),
      only: [entry.name],
      log: (line) => t.diagnostic(line),
    });
    for (const line of formatTable(report.rows).split('\n')) t.diagnostic(line);
    for (const row of report.rows) {
      const problems = row.problems.slice(0, 10).join('\n  ');
      assert.equal(row.lost, 0, `${row.scenario}: ${row.lost} lost\n  ${problems}`);
      assert.equal(row.duplicated, 0, `${row.scenario}: ${row.duplicated} duplicated\n  ${problems}`);
      assert.equal(row.leaks, 0, `${row.scenario}: ${row.leaks} leaks\n  ${problems}`);
      assert.deepEqual(row.problems, [], row.scenario);
      assert.ok(row.runs > 0, `${row.scenario}: nothing ran`);
    }
  });
}
