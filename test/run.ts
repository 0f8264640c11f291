// `npm test`: starts one Temporal dev server for the whole run, runs every test file with
// `node --test` against it, and stops it however the run ends.
//   npm test                      all tests
//   npm test -- --unit            only tests that need no server (test/unit, test/api, test/process-file, test/emulator)
//   npm test -- test/foo.test.ts  the named files
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { startDevServer, type DevServer } from '../dev/dev-server';
import {
  compiledPath,
  TEST_BUILD_VARIABLE,
  writeTestBuild,
  type WrittenTestBuild,
} from './helpers/test-build';
import { WORKFLOW_BUNDLE_VARIABLE, writeWorkflowBundle, type WrittenBundle } from './helpers/workflow-bundle';

export const TEST_ADDRESS_VARIABLE = 'COASTY_TEST_TEMPORAL_ADDRESS';
const SERVERLESS_DIRS = ['test/unit', 'test/api', 'test/process-file', 'test/emulator'];
// The files that take longest (measured wall time, 45 s to 3 min each) start first, so the run does
// not end on one of them alone while the other slots sit idle. Order only: any order passes.
const LONGEST_FIRST = [
  'test/package/package.test.ts',
  'test/chaos/webhooks.test.ts',
  'test/cli/embedded.test.ts',
  'test/cli/commands.test.ts',
  'test/chaos/after-creation.test.ts',
  'test/chaos/streams.test.ts',
  'test/package/plugin.test.ts',
  'test/serve/events.test.ts',
  'test/batch/pool.test.ts',
  'test/cli/readme.test.ts',
  'test/cli/untrusted.test.ts',
];

function listTests(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory())
        return name === 'fixtures' || name === 'helpers' ? [] : listTests(path);
      return name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const named = args.filter((arg) => !arg.startsWith('--'));
const passThrough = args.filter((arg) => arg.startsWith('--') && arg !== '--unit');
const isServerless = (file: string) => SERVERLESS_DIRS.some((dir) => !relative(dir, file).startsWith('..'));
const rank = (file: string) => {
  const index = LONGEST_FIRST.indexOf(file.split(sep).join('/'));
  return index === -1 ? LONGEST_FIRST.length : index;
};
const files = named.length
  ? named
  : listTests('test')
      .filter((file) => !unitOnly || isServerless(file))
      .sort((a, b) => rank(a) - rank(b));
const needsServer = !files.every(isServerless);

let server: DevServer | undefined;
let bundle: WrittenBundle | undefined;
let exiting = false;

// Filled once node --test is spawned; a signal can arrive before that, while the server starts.
const runner: { child?: ChildProcess; build?: WrittenTestBuild } = {};

async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    // The runner has its own process group, so a kill by pid or a Ctrl-C takes all its files too,
    // and nothing a file left behind outlives the run.
    if (runner.child?.pid) {
      try {
        process.kill(-runner.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await server?.stop().catch(() => undefined);
    await bundle?.cleanup().catch(() => undefined);
    await runner.build?.cleanup().catch(() => undefined);
  }
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

const env = { ...process.env };
// Every .ts file compiled once (test/helpers/test-build.ts), while the server starts: the test files
// and the CLI and worker children they start then run without tsx, which is most of a process's start.
// A runner started by a test (test/dev/no-orphans.test.ts) uses its parent's build and bundle.
const building = process.env[TEST_BUILD_VARIABLE]
  ? undefined
  : writeTestBuild().catch((error: Error) => {
      console.error(`Cannot compile the sources for the tests: ${error.message}`);
      return process.exit(1);
    });
// The workflow code is bundled once for the whole run, while the server starts: every worker of
// every test file loads it (test/helpers/workflow-bundle.ts) instead of bundling for seconds.
const bundling =
  needsServer && !process.env[WORKFLOW_BUNDLE_VARIABLE]
    ? writeWorkflowBundle().catch((error: Error) => {
        console.error(`Cannot bundle the workflow code for the tests: ${error.message}`);
        return process.exit(1);
      })
    : undefined;
if (needsServer) {
  if (process.env[TEST_ADDRESS_VARIABLE]) {
    console.log(
      `# Temporal: using the server at ${process.env[TEST_ADDRESS_VARIABLE]} (${TEST_ADDRESS_VARIABLE})`,
    );
  } else {
    const started = Date.now();
    server = await startDevServer({ log: (line) => console.log(`# ${line}`) }).catch((error: Error) => {
      console.error(`Cannot start the Temporal dev server for the tests: ${error.message}`);
      return process.exit(1);
    });
    console.log(
      `# Temporal dev server ${server.address} (pid ${server.pid}) ready in ${Date.now() - started} ms; ` +
        `CLI from ${server.cli.source}: ${server.cli.path} (${server.cli.version.split('\n')[0]})`,
    );
    env[TEST_ADDRESS_VARIABLE] = server.address;
  }
  bundle = await bundling;
  if (bundle) {
    console.log(
      `# workflow bundle ${bundle.codePath} (${Math.round(bundle.bytes / 1e3)} kB in ${bundle.ms} ms)`,
    );
    env[WORKFLOW_BUNDLE_VARIABLE] = bundle.codePath;
  }
}

const build = await building;
runner.build = build;
if (build) {
  console.log(`# compiled ${build.files} files to ${build.dir} in ${build.ms} ms`);
  env[TEST_BUILD_VARIABLE] = build.dir;
}
const buildDir = env[TEST_BUILD_VARIABLE]!;
const compiled = files.map((file) => compiledPath(buildDir, file));

// node --test runs one file at a time on 2 cores (cores - 1); the integration tests mostly wait on
// timers, sockets and child processes, so several files at once keep both cores busy: four, longest
// first, took an idle 2-core machine's Node 20 suite from 321 s to 279 s (three: 6.7 to 3.0 min
// against one), and the suite passes with both cores loaded (npm run test:loaded).
const concurrency = passThrough.some((arg) => arg.startsWith('--test-concurrency'))
  ? []
  : ['--test-concurrency=4'];
const child = spawn(
  process.execPath,
  ['--enable-source-maps', '--test', ...concurrency, ...passThrough, ...compiled],
  { stdio: 'inherit', env, detached: true },
);
runner.child = child;
child.on('exit', (code, signal) => void shutdown(code ?? (signal ? 1 : 0)));
