import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../dev/temporal-cli';
import { tempDir } from '../helpers/temp-dir';

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
  test(`killing the test run with ${signal} halfway leaves no temporal process behind`, async () => {
    const dir = tempDir('coasty-orphan');
    const env: Record<string, string | undefined> = {
      ...process.env,
      STARTED_FILE: join(dir, 'started'),
      RELEASE_FILE: join(dir, 'release'),
    };
    delete env.COASTY_TEST_TEMPORAL_ADDRESS;
    delete env.NODE_TEST_CONTEXT; // else the nested `node --test` thinks it is a subtest and skips its files
    const runner = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/run.ts', 'test/fixtures/wait-for-file.ts'],
      {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const temporalPid = await new Promise<number>((resolve, reject) => {
        runner.once('exit', (code) => reject(new Error(`runner exited early with ${code}`)));
        createInterface({ input: runner.stdout! }).on('line', (line) => {
          const match = /Temporal dev server \S+ \(pid (\d+)\)/.exec(line);
          if (match) resolve(Number(match[1]));
        });
      });
      assert.ok(isAlive(temporalPid), 'the dev server runs while tests are in flight');
      await waitFor('the fixture test to start', () => existsSync(env.STARTED_FILE!));

      runner.kill(signal);
      await waitFor(
        `temporal pid ${temporalPid} to exit after ${signal}`,
        () => !isAlive(temporalPid),
        30_000,
      );
    } finally {
      writeFileSync(env.RELEASE_FILE!, 'go');
      runner.kill('SIGKILL');
    }
  });
}
