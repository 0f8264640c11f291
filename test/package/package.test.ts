// The package as a user gets it: `npm pack`, the tarball installed into an empty project outside the
// repository (examples/own-app), type-checked with tsc (strict; NodeNext and Bundler resolution),
// loaded by plain Node ESM, and the example's own test run against the test server and the emulator.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { testServerAddress } from '../helpers/temporal';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const MINUTE = 60_000;
/** A tarball `npm pack` made of this checkout, installed instead of packing again (.ci/run sets it). */
const TARBALL_VARIABLE = 'COASTY_TEST_TARBALL';

let work: string;
let app: string;
let tarball: string;

async function sh(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeout = 5 * MINUTE,
) {
  try {
    // NODE_TEST_CONTEXT would make a child `node --test` report to this runner instead of printing TAP;
    // the test run's workflow bundle would stand in for the package's own.
    const { NODE_TEST_CONTEXT: _, COASTY_WORKFLOW_BUNDLE: __, ...inherited } = process.env;
    return await run(command, args, {
      cwd,
      env: { ...inherited, ...env },
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** tsc's error lines (it exits 2 when there are any). */
async function typeErrors(cwd: string, args: string[]): Promise<string[]> {
  try {
    await run(join(cwd, 'node_modules', '.bin', 'tsc'), args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return [];
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? '';
    return stdout.split('\n').filter((line) => /error TS\d+/.test(line));
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'coasty-package-'));
  app = join(work, 'own-app');
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** What `npm pack --json` says of a tarball: its name, sizes and files. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}

async function packHere(): Promise<Packed> {
  const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', work], repo, {}, 10 * MINUTE);
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Packed[];
  assert.ok(packed);
  return packed;
}

/** The same facts of a tarball packed before (CI packs once for both Node versions). */
async function describeGiven(path: string): Promise<Packed> {
  const filename = basename(path);
  await cp(path, join(work, filename));
  const { stdout } = await sh('tar', ['-tvzf', path], work);
  const entries = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/));
  return {
    filename,
    size: (await stat(path)).size,
    unpackedSize: entries.reduce((sum, fields) => sum + Number(fields[2]), 0),
    files: entries.map((fields) => ({ path: fields.at(-1)!.replace(/^package\//, '') })),
  };
}

test('npm pack gives a tarball with compiled code and no sources', { timeout: 10 * MINUTE }, async (t) => {
  const given = process.env[TARBALL_VARIABLE];
  const packed = given ? await describeGiven(given) : await packHere();
  tarball = join(work, packed.filename);
  if (given) t.diagnostic(`packed before this run: ${given} (${TARBALL_VARIABLE})`);
  const paths = packed.files.map((file) => file.path);
  t.diagnostic(
    `tarball ${packed.filename}: ${(packed.size / 1024).toFixed(0)} kB packed, ${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${paths.length} files`,
  );
  for (const entry of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/workflows/index.js',
    'dist/emulator/index.js',
    'dist/client/cli.js',
    'dist/dev/orphan-guard.mjs',
    'dist/serve/static/live.js',
    'dist/serve/static/serve.css',
    'dist/workflows/bundle.js',
    'bin/coasty-temporal.js',
  ]) {
    assert.ok(paths.includes(entry), `${entry} ships`);
  }
  assert.deepEqual(
    paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts')),
    [],
    'no TypeScript sources ship',
  );
  assert.ok(
    !paths.some((path) => path.startsWith('test/') || path.startsWith('bench/')),
    'no tests or benchmarks ship',
  );
  const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.equal(manifest.dependencies.tsx, undefined, 'tsx is a dev dependency only');
});

test(
  'the tarball installs into an empty project outside the repository',
  { timeout: 10 * MINUTE },
  async (t) => {
    assert.ok(tarball, 'packed by the previous test');
    await cp(join(repo, 'examples', 'own-app'), app, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|build)$/.test(source),
    });
    const manifestPath = join(app, 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      dependencies: Record<string, string>;
    };
    manifest.dependencies['coasty-temporal'] = `file:${tarball}`;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const started = Date.now();
    await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app, {}, 10 * MINUTE);
    t.diagnostic(`npm install (warm cache) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await stat(join(app, 'node_modules', 'coasty-temporal', 'dist', 'index.js'));
    await assert.rejects(stat(join(app, 'node_modules', 'tsx')), 'tsx is not installed for users');
  },
);

test(
  'the example type-checks with tsc strict under NodeNext and Bundler resolution',
  { timeout: 5 * MINUTE },
  async () => {
    // One tsc per resolution: the example skips lib checks, as most apps do, but our own declarations
    // must pass without that, so lib checks are on and only errors of other libraries are forgiven.
    // tsconfig.json emits the build the next tests run (tsc emits despite errors; they fail here).
    for (const project of ['tsconfig.json', 'tsconfig.bundler.json']) {
      const errors = await typeErrors(app, ['-p', project, '--skipLibCheck', 'false']);
      const ours = errors.filter((line) => !/^node_modules\/(@temporalio|ms)\//.test(line));
      assert.deepEqual(ours, [], `${project}: no type errors in coasty-temporal's declarations or the app`);
    }
  },
);

test(
  'plain Node ESM loads the three entry points, and the bin runs compiled code',
  { timeout: 2 * MINUTE },
  async () => {
    const script = [
      "import { CoastyPlugin, RunsClient, NotFoundError, AesGcmPayloadCodec, startProcess, ACTIVITY_TYPE_NAMES } from 'coasty-temporal';",
      "import { agentRun, runChain, runBatch, humanInputSignal, progressQuery } from 'coasty-temporal/workflow';",
      "import { startEmulator } from 'coasty-temporal/emulator';",
      'const plugin = new CoastyPlugin({ baseUrl: "http://127.0.0.1:1/v1", apiKey: "k", searchAttributes: false });',
      'console.log(JSON.stringify({ plugin: plugin.name, types: [typeof RunsClient, typeof NotFoundError, typeof AesGcmPayloadCodec, typeof startProcess, typeof agentRun, typeof runChain, typeof runBatch, typeof startEmulator], signal: humanInputSignal.name, query: progressQuery.name, create: ACTIVITY_TYPE_NAMES.createRun }));',
    ].join('\n');
    const { stdout } = await sh(process.execPath, ['--input-type=module', '-e', script], app);
    assert.deepEqual(JSON.parse(stdout), {
      plugin: 'coasty-temporal',
      types: Array(8).fill('function'),
      signal: 'humanInput',
      query: 'progress',
      create: 'coasty.createRun',
    });
    const help = await sh(join(app, 'node_modules', '.bin', 'coasty-temporal'), ['schema'], app);
    assert.match(help.stdout, /"\$schema"/);
  },
);

test(
  "the example's own test passes: its worker with CoastyPlugin, its workflow, the emulator",
  { timeout: 5 * MINUTE },
  async (t) => {
    const { stdout } = await sh(
      process.execPath,
      ['--test', '--test-reporter=tap', 'build/test/app.test.js'],
      app,
      { TEMPORAL_ADDRESS: testServerAddress() },
      4 * MINUTE,
    );
    t.diagnostic(
      stdout
        .split('\n')
        .filter((line) => /^# (tests|pass|fail)/.test(line))
        .join('; '),
    );
    assert.match(stdout, /^# pass 1$/m);
    assert.match(stdout, /^# fail 0$/m);
  },
);

test(
  'the installed `coasty-temporal worker` starts from the workflow bundle built with the package',
  { timeout: 2 * MINUTE },
  async () => {
    const { NODE_TEST_CONTEXT: _, COASTY_WORKFLOW_BUNDLE: __, ...inherited } = process.env;
    const worker = spawn(
      join(app, 'node_modules', '.bin', 'coasty-temporal'),
      ['worker', '--task-queue', `package-bundle-${process.pid}`],
      {
        cwd: app,
        env: {
          ...inherited,
          TEMPORAL_ADDRESS: testServerAddress(),
          COASTY_BASE_URL: 'http://127.0.0.1:9/v1', // never called: nothing is started on this queue
          COASTY_API_KEY: 'unused',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = once(worker, 'exit');
    const lines: string[] = [];
    worker.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    try {
      let ready: string | undefined;
      for await (const line of createInterface({ input: worker.stdout })) {
        lines.push(line);
        if (line.startsWith('Worker ready')) {
          ready = line;
          break;
        }
      }
      assert.ok(ready, `the worker said it is ready:\n${lines.join('\n')}`);
      const bundle = join(app, 'node_modules', 'coasty-temporal', 'dist', 'workflows', 'bundle.js');
      assert.ok(ready.endsWith(`workflow code: prebuilt bundle ${bundle}`), ready);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
  },
);
