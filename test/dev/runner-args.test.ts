// `npm test`'s own arguments (test/run.ts): mistakes are refused before any server starts, and a
// folder stands for the test files in it, run in the order the runner gives (not node --test's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function runner(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // else the nested run thinks it is a subtest of this one
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'test/run.ts', ...args], {
      env,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('an unknown option and a path that does not exist are refused, saying what is accepted', async () => {
  const option = await runner('--test-reporter=tap');
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option --test-reporter=tap\. Options: --unit, --test-concurrency=N/);
  const missing = await runner('test/no-such-folder');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /test\/no-such-folder does not exist; name test files or folders/);
  const concurrency = await runner('--test-concurrency=0', 'test/unit/safe-text.test.ts');
  assert.equal(concurrency.code, 2);
  assert.match(concurrency.stderr, /--test-concurrency must be a whole number from 1, got "0"/);
});

test('a named folder runs every test file in it, reported by the spec reporter', async () => {
  const { code, stdout } = await runner('--test-concurrency=1', 'test/process-file');
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^ℹ fail 0$/m);
  // One suite of each file in the folder.
  for (const suite of ['parseCsv (RFC 4180)', 'examples', 'mistakes in process files', 'renderTemplate'])
    assert.ok(stdout.includes(`▶ ${suite}\n`), `the suite "${suite}" ran`);
});
