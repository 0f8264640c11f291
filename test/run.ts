// `npm test`: starts one Temporal dev server for the whole run, runs every test file with node:test
// against it (test/helpers/run-files.ts), and stops it however the run ends.
//   npm test                              all tests
//   npm test -- --unit                    only tests that need no server (test/unit, test/api, test/process-file, test/emulator)
//   npm test -- test/foo.test.ts          the named files
//   npm test -- --test-concurrency=2      files at once (default 4)
//   npm test -- --test-name-pattern=RE    only tests whose name matches
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
// The files that take longest (wall time on Node 24 with four at once, 2026-12-06: 93 s to 22 s) start
// first, so the run does not end on one of them alone while the other slots sit idle. Order only:
// any order passes.
const LONGEST_FIRST = [
  'test/package/package.test.ts',
  'test/chaos/after-creation.test.ts',
  'test/chaos/streams.test.ts',
  'test/cli/embedded.test.ts',
  'test/chaos/webhooks.test.ts',
  'test/cli/commands.test.ts',
  'test/batch/pool.test.ts',
  'test/serve/events.test.ts',
  'test/agent-run/delivery.test.ts',
  'test/package/plugin.test.ts',
  'test/cli/prompt.test.ts',
  'test/batch/continue-as-new.test.ts',
  'test/security/leaks.test.ts',
  'test/cli/untrusted.test.ts',
  'test/agent-run/failure-paths.test.ts',
  'test/agent-run/resend.test.ts',
  'test/cli/readme.test.ts',
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
const options = args.filter((arg) => arg.startsWith('--') && arg !== '--unit');
const optionValues = (name: string) =>
  options.filter((arg) => arg.startsWith(`${name}=`)).map((arg) => arg.slice(name.length + 1));
const unknown = options.filter((arg) => !/^--test-(concurrency|name-pattern)=./.test(arg));
if (unknown.length) {
  console.error(
    `npm test: unknown option ${unknown.join(', ')}. Options: --unit, --test-concurrency=N, --test-name-pattern=REGEX; anything else names test files.`,
  );
  process.exit(2);
}
const concurrencyGiven = optionValues('--test-concurrency').at(-1);
const concurrency = Number(concurrencyGiven ?? 4);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`npm test: --test-concurrency must be a whole number from 1, got "${concurrencyGiven}".`);
  process.exit(2);
}
const isServerless = (file: string) => SERVERLESS_DIRS.some((dir) => !relative(dir, file).startsWith('..'));
const rank = (file: string) => {
  const index = LONGEST_FIRST.indexOf(file.split(sep).join('/'));
  return index === -1 ? LONGEST_FIRST.length : index;
};
/** A named folder stands for its test files; a name that is neither is an error, not an empty run. */
function namedTests(name: string): string[] {
  if (!existsSync(name)) {
    console.error(`npm test: ${name} does not exist; name test files or folders (e.g. test/unit).`);
    process.exit(2);
  }
  return statSync(name).isDirectory() ? listTests(name) : [name];
}
const files = (named.length ? named.flatMap(namedTests) : listTests('test'))
  .filter((file) => named.length || !unitOnly || isServerless(file))
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

// Several files at once: the integration tests mostly wait on timers, sockets and child processes,
// so four keep both cores of a 2-core machine busy (six thrashed it), and the suite passes with both
// cores loaded (npm run test:loaded). The files run in the order above, longest first, through
// run-files (`node --test` would sort them by name and end on the longest alone).
const child = spawn(
  process.execPath,
  [
    '--enable-source-maps',
    compiledPath(buildDir, 'test/helpers/run-files.ts'),
    `--concurrency=${concurrency}`,
    ...optionValues('--test-name-pattern').map((pattern) => `--name-pattern=${pattern}`),
    '--',
    ...compiled,
  ],
  { stdio: 'inherit', env, detached: true },
);
runner.child = child;
child.on('exit', (code, signal) => void shutdown(code ?? (signal ? 1 : 0)));
