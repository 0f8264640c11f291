import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTemporalCli, temporalCacheDir } from '../../dev/temporal-cli';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'coasty-cli-'));
}

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
  const dir = tempDir();
  const env = { PATH: join(dir, 'empty-bin'), COASTY_TEMPORAL_CACHE: join(dir, 'cache') };
  await assert.rejects(findTemporalCli({ env, log: () => {} }), (error: Error) => {
    assert.match(error.message, /install Go >= 1\.25/);
    assert.match(error.message, /TEMPORAL_CLI_PATH/);
    assert.match(error.message, /TEMPORAL_ADDRESS/);
    return true;
  });
});

test('a CLI on PATH is used and checked with --version', async () => {
  const bin = join(tempDir(), 'bin');
  mkdirSync(bin);
  executable(join(bin, 'temporal'), 'echo "temporal version 9.9.9"');
  const cli = await findTemporalCli({ env: { PATH: bin } });
  assert.equal(cli.source, 'PATH');
  assert.equal(cli.version, 'temporal version 9.9.9');
});

test('two callers that need the CLI at once build it once, into the cache, under a lock', async () => {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'go-calls');
  // A stand-in for `go`: reports a version, and `install` writes a temporal binary into GOBIN slowly.
  executable(
    join(bin, 'go'),
    `case "$1" in
  env) echo go1.26.0 ;;
  install) echo x >> ${calls}; sleep 1; mkdir -p "$GOBIN"; printf '#!/bin/sh\\necho temporal version 1.5.1\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal" ;;
esac`,
  );
  const env = { PATH: `${bin}:/usr/bin:/bin`, COASTY_TEMPORAL_CACHE: join(dir, 'cache') };
  const logs: string[] = [];
  const [first, second] = await Promise.all([
    findTemporalCli({ env, log: (line) => logs.push(line) }),
    findTemporalCli({ env, log: (line) => logs.push(line) }),
  ]);
  assert.equal(readFileSync(calls, 'utf8').trim().split('\n').length, 1, 'go install ran once');
  assert.equal(first.path, join(temporalCacheDir(env), 'temporal'));
  assert.equal(second.path, first.path);
  assert.ok(logs.some((line) => /one-time build of several minutes/.test(line)));
  const again = await findTemporalCli({ env, log: (line) => logs.push(line) });
  assert.equal(again.source, 'cache');
});
