import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile, MAX_MACHINES, resolveConfig } from '../../emulator/config';
import { nodeArgsFor } from '../helpers/test-build';
import { waitFor } from './helpers';

const MAIN = fileURLToPath(new URL('../../emulator/main.ts', import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(t: TestContext, args: string[]): Child {
  const proc = spawn(process.execPath, [...nodeArgsFor(MAIN), ...args], { stdio: 'pipe' });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  return { proc, out: () => out, err: () => err, exited };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'coasty-emu-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('emulator command', () => {
  test('starts on a free port, prints URL, keys and machines, serves, and stops on SIGTERM', async (t) => {
    const child = run(t, ['--port', '0', '--api-key', 'cli_key', '--machines', '2', '--seed', '5']);
    const url = await waitFor(
      'the banner',
      () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.out())?.[1],
      30000,
    );
    assert.match(child.out(), /API key: +cli_key/);
    assert.match(child.out(), /admin key: +cli_key_admin/);
    assert.match(child.out(), /machines: +m-1, m-2\n/);
    const res = await fetch(`${url}/v1/machines`, { headers: { authorization: 'Bearer cli_key' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { data: unknown[] }).data.length, 2);
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.match(child.out(), /SIGTERM: stopping/);
  });

  test('SIGINT stops it too', async (t) => {
    const child = run(t, ['--port', '0']);
    await waitFor('the banner', () => child.out().includes('listening on'), 30000);
    assert.match(child.out(), /API key: +emu_test_key/);
    assert.match(child.out(), /machines: +m-1, m-2, m-3, m-4/);
    child.proc.kill('SIGINT');
    assert.equal(await child.exited, 0);
  });

  test('--config reads YAML; flags override the file', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'emulator.yaml');
    await writeFile(file, 'seed: 9\nmachines: [alpha, beta]\nagent:\n  paceMs: 50\n');
    const child = run(t, ['--port', '0', '--config', file, '--pace-ms', '7']);
    await waitFor('the banner', () => child.out().includes('listening on'), 30000);
    assert.match(child.out(), /machines: +alpha, beta/);
    assert.match(child.out(), /seed: +9, step pace 7 ms/);
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
  });

  test('a bad config file or flag exits 1 with a message that names the problem', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'agent:\n  paceMs: -1\n  colour: blue\n');
    const bad = run(t, ['--port', '0', '--config', file]);
    assert.equal(await bad.exited, 1);
    assert.match(bad.err(), /bad\.yaml/);
    assert.match(bad.err(), /paceMs/);
    const badFlag = run(t, ['--port', 'x']);
    assert.equal(await badFlag.exited, 1);
    assert.match(badFlag.err(), /--port must be an integer/);
    const tooMany = run(t, ['--port', '0', '--machines', String(MAX_MACHINES + 1)]);
    assert.equal(await tooMany.exited, 1);
    assert.match(tooMany.err(), new RegExp(`--machines must be an integer from 1 to ${MAX_MACHINES}`));
  });

  test('a fleet of machines: the banner names the first and the last', async (t) => {
    const child = run(t, ['--port', '0', '--machines', String(MAX_MACHINES)]);
    await waitFor('the banner', () => child.out().includes('listening on'), 30000);
    assert.match(
      child.out(),
      new RegExp(`machines: +m-1, m-2, m-3, \\.\\.\\., m-${MAX_MACHINES} \\(${MAX_MACHINES}\\)\n`),
    );
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
  });
});

describe('config files', () => {
  test('JSON and YAML load; unknown keys and bad values are refused', async (t) => {
    const dir = await tempDir(t);
    const json = join(dir, 'c.json');
    await writeFile(json, JSON.stringify({ machines: 3, faults: { stream: { dropAfterEvents: 2 } } }));
    const config = resolveConfig(await loadConfigFile(json));
    assert.deepEqual(config.machines, ['m-1', 'm-2', 'm-3']);
    assert.equal(config.faults.stream?.dropAfterEvents, 2);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"machines": ');
    await assert.rejects(loadConfigFile(broken), ConfigError);
    await assert.rejects(loadConfigFile(join(dir, 'missing.yaml')), /cannot read/);
    assert.throws(() => resolveConfig({ agent: { minSteps: 9, maxSteps: 3 } }), /minSteps/);
    assert.throws(() => resolveConfig({ machines: ['a', 'a'] }), /unique/);
  });

  test(`a fleet: up to ${MAX_MACHINES} machines, by count or by list, and no more`, () => {
    assert.equal(MAX_MACHINES, 20000);
    assert.equal(resolveConfig({ machines: MAX_MACHINES }).machines.at(-1), `m-${MAX_MACHINES}`);
    const ids = Array.from({ length: MAX_MACHINES + 1 }, (_, i) => `x-${i}`);
    assert.equal(resolveConfig({ machines: ids.slice(1) }).machines.length, MAX_MACHINES);
    for (const machines of [MAX_MACHINES + 1, ids]) {
      assert.throws(
        () => resolveConfig({ machines }),
        (error: Error) =>
          error instanceof ConfigError &&
          /at most 20000 machines/.test(error.message) &&
          /machines/.test(error.message),
      );
    }
  });
});
