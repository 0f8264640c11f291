import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalCli, formatElapsed, GoBuildProgress, temporalCacheDir } from '../../dev/temporal-cli';
import { waitUntil } from '../helpers/wait';
import { tempDir } from '../helpers/temp-dir';

function executable(path: string, script: string): string {
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('TEMPORAL_CLI_PATH that does not exist is a clear error', async () => {
  await assert.rejects(
    findTemporalCli({ env: { TEMPORAL_CLI_PATH: '/nope/temporal', PATH: '' } }),
    /TEMPORAL_CLI_PATH points to \/nope\/temporal, which does not exist/,
  );
});

test('without a CLI and without Go, the error says what to install and how to avoid the build', async () => {
  const dir = tempDir('coasty-cli');
  const env = { PATH: join(dir, 'empty-bin'), COASTY_TEMPORAL_CACHE: join(dir, 'cache') };
  await assert.rejects(findTemporalCli({ env, log: () => {} }), (error: Error) => {
    assert.match(error.message, /install Go >= 1\.25/);
    assert.match(error.message, /TEMPORAL_CLI_PATH/);
    assert.match(error.message, /TEMPORAL_ADDRESS/);
    return true;
  });
});

test('a CLI on PATH is used and checked with --version', async () => {
  const bin = join(tempDir('coasty-cli'), 'bin');
  mkdirSync(bin);
  executable(join(bin, 'temporal'), 'echo "temporal version 9.9.9"');
  const cli = await findTemporalCli({ env: { PATH: bin } });
  assert.equal(cli.source, 'PATH');
  assert.equal(cli.version, 'temporal version 9.9.9');
});

test('two callers that need the CLI at once build it once, into the cache, under a lock, and say they are alive', async () => {
  const dir = tempDir('coasty-cli');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'go-calls');
  const releaseFile = join(dir, 'release');
  // A stand-in for \`go\`: reports a version; \`install -v\` says what it does as go does, then waits
  // until the test releases it, then writes a temporal binary into GOBIN.
  executable(
    join(bin, 'go'),
    `case "$1" in
  env) echo go1.26.0 ;;
  install) echo "$@" >> ${calls}
    echo "go: downloading go.temporal.io/server v1.29.1" >&2
    echo "go.temporal.io/server/common/log" >&2
    echo "github.com/temporalio/cli/temporalcli" >&2
    while [ ! -f ${releaseFile} ]; do sleep 0.05; done
    mkdir -p "$GOBIN"; printf '#!/bin/sh\\necho temporal version 1.5.1\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal" ;;
esac`,
  );
  const env = { PATH: `${bin}:/usr/bin:/bin`, COASTY_TEMPORAL_CACHE: join(dir, 'cache') };
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  // The progress lines are on a timer (the point: time passing is what they report); 50 ms here.
  const both = Promise.all([
    findTemporalCli({ env, log, progressIntervalMs: 50 }),
    findTemporalCli({ env, log, progressIntervalMs: 50 }),
  ]);
  await waitUntil(
    'a progress line with what go reported',
    () =>
      logs.some((line) =>
        /Temporal CLI build: \d+ s elapsed \(usually 4 to 6 minutes on 2 cores\); 1 modules downloaded, 2 packages compiled; last: compiled github.com\/temporalio\/cli\/temporalcli/.test(
          line,
        ),
      ),
    20_000,
    20,
  );
  await waitUntil(
    'the waiting caller to say so',
    () => logs.some((line) => /still waiting for the Temporal CLI build of pid \d+/.test(line)),
    20_000,
    20,
  );
  writeFileSync(releaseFile, '');
  const [first, second] = await both;
  const installs = readFileSync(calls, 'utf8').trim().split('\n');
  assert.equal(installs.length, 1, 'go install ran once');
  assert.match(installs[0]!, /^install -v /, 'go reports each package it compiles');
  assert.equal(first.path, join(temporalCacheDir(env), 'temporal'));
  assert.equal(second.path, first.path);
  assert.ok(
    logs.some((line) => /one-time build of several minutes \(usually 4 to 6 minutes on 2 cores\)/.test(line)),
  );
  assert.ok(
    logs.some((line) =>
      /^Built the Temporal CLI in \d+ s \(1 modules downloaded, 2 packages compiled/.test(line),
    ),
  );
  const before = logs.length;
  const again = await findTemporalCli({ env, log });
  assert.equal(again.source, 'cache', 'a second start never rebuilds');
  assert.equal(logs.length, before, 'and says nothing');
  assert.equal(readFileSync(calls, 'utf8').trim().split('\n').length, 1);
});

test('GoBuildProgress reads go install -v output', () => {
  const progress = new GoBuildProgress();
  assert.equal(progress.describe(), 'go has reported nothing yet');
  for (const line of [
    'go: downloading github.com/a/b v1.2.3',
    'internal/abi',
    'go.temporal.io/x/y.z',
    'some other message: with spaces',
  ])
    progress.see(line);
  assert.equal(
    progress.describe(),
    '1 modules downloaded, 2 packages compiled; last: compiled go.temporal.io/x/y.z',
  );
  assert.equal(formatElapsed(59_900), '59 s');
  assert.equal(formatElapsed(338_000), '5 min 38 s');
});
