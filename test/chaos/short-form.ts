// The chaos suite's short form inside `npm test`, one test per scenario, with N = 20 concurrent runs
// (CHAOS_TEST_N to change it) to keep `npm test` quick on 2 cores; `npm run test:chaos` runs N = 50.
// Each scenario must lose nothing, duplicate nothing, leak nothing, and meet its own expectations.
// The scenarios are split over three test files (SHORT_FORM_FILES) so `npm test` runs them
// alongside each other and the rest, instead of one file of four minutes at the end of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testServerAddress } from '../helpers/temporal';
import { formatTable } from './lib/report';
import { SCENARIOS, runChaosSuite } from './suite';

/** Each test file's scenarios: together every scenario, each once (checked by every file). */
export const SHORT_FORM_FILES = {
  streams: ['storms', 'worker-kill', 'drops'],
  'after-creation': ['after-creation', 'malformed'],
  webhooks: ['webhooks', 'server-kill', 'bad-input'],
} as const;

const n = Number(process.env.CHAOS_TEST_N ?? 20);

export function chaosShortForm(file: keyof typeof SHORT_FORM_FILES): void {
  test('the short-form files run every chaos scenario, each once', () => {
    const listed = Object.values(SHORT_FORM_FILES).flat();
    assert.deepEqual([...listed].sort(), SCENARIOS.map((s) => s.name).sort());
  });
  for (const name of SHORT_FORM_FILES[file]) {
    test(`chaos: ${name} (N = ${n})`, async (t) => {
      const report = await runChaosSuite({
        n,
        long: false,
        temporalAddress: testServerAddress(),
        only: [name],
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
}
