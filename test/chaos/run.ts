// `npm run test:chaos`: the reliability suite (docs/reliability.md).
//   npm run test:chaos                       short form: N = 50 concurrent runs per scenario
//   npm run test:chaos -- --long             long form: N = 200
//   npm run test:chaos -- --n 120            any N (also CHAOS_N=120)
//   npm run test:chaos -- --only drops,storms   some scenarios (worker-kill, server-kill, drops,
//                                            storms, malformed, bad-input)
//   npm run test:chaos -- --markdown         also print the table as Markdown (for the README)
// Prints the summary table, writes bench/results/chaos.json (or --out FILE) and, for a whole run
// without --out, the README's "Reliability" table; exits 1 when
// anything was lost, duplicated or leaked, or an expectation failed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeReadmeSection } from '../../bench/readme-section';
import { startDevServer, type DevServer } from '../../dev/dev-server';
import { TEST_BUILD_VARIABLE, writeTestBuild, type WrittenTestBuild } from '../helpers/test-build';
import {
  WORKFLOW_BUNDLE_VARIABLE,
  writeWorkflowBundle,
  type WrittenBundle,
} from '../helpers/workflow-bundle';
import { formatMarkdown, formatTable } from './lib/report';
import { rowPassed } from './lib/types';
import { runChaosSuite, stopActiveScenario } from './suite';

export const DEFAULT_RESULTS_FILE = fileURLToPath(new URL('../../bench/results/chaos.json', import.meta.url));

const { values } = parseArgs({
  options: {
    long: { type: 'boolean', default: false },
    n: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    markdown: { type: 'boolean', default: false },
  },
});

const long = values.long!;
const nText = values.n ?? process.env.CHAOS_N ?? (long ? '200' : '50');
const n = Number(nText);
if (!Number.isInteger(n) || n < 1 || n > 1000) {
  console.error(`test:chaos: --n must be an integer from 1 to 1000, got "${nText}"`);
  process.exit(2);
}

let server: DevServer | undefined;
let bundle: WrittenBundle | undefined;
let build: WrittenTestBuild | undefined;
let exiting = false;
async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    await stopActiveScenario();
    await server?.stop().catch(() => undefined);
    await bundle?.cleanup().catch(() => undefined);
    await build?.cleanup().catch(() => undefined);
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

try {
  // One workflow bundle for the whole suite: every worker it starts loads it (no bundling per worker).
  if (!process.env[WORKFLOW_BUNDLE_VARIABLE]) {
    bundle = await writeWorkflowBundle();
    process.env[WORKFLOW_BUNDLE_VARIABLE] = bundle.codePath;
    console.log(`# workflow bundle ${bundle.codePath} (${bundle.ms} ms)`);
  }
  // The workers and CLIs the scenarios start run compiled, not through tsx (test/helpers/test-build.ts).
  if (!process.env[TEST_BUILD_VARIABLE]) {
    build = await writeTestBuild();
    process.env[TEST_BUILD_VARIABLE] = build.dir;
    console.log(`# compiled ${build.files} files to ${build.dir} (${build.ms} ms)`);
  }
  let temporalAddress = process.env.COASTY_TEST_TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    server = await startDevServer({ log: (line) => console.log(`# ${line}`) });
    temporalAddress = server.address;
    console.log(`# Temporal dev server ${server.address} (pid ${server.pid})`);
  }
  const report = await runChaosSuite({
    n,
    long,
    temporalAddress,
    only: values.only?.split(',').filter(Boolean),
  });
  console.log(`\n${formatTable(report.rows)}\n`);
  for (const row of report.rows) {
    for (const note of row.notes) console.log(`  ${row.scenario}: ${note}`);
  }
  for (const row of report.rows.filter((r) => !rowPassed(r))) {
    console.log(`\nFAILED ${row.scenario}:`);
    for (const problem of row.problems.slice(0, 20)) console.log(`  - ${problem}`);
    if (row.problems.length > 20)
      console.log(`  ... and ${row.problems.length - 20} more (see the JSON file)`);
  }
  if (values.markdown) console.log(`\n${formatMarkdown(report)}\n`);
  const out = values.out ?? DEFAULT_RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  // Only a whole suite run with the default output becomes the README's latest result.
  if (!values.out && !values.only) {
    await writeReadmeSection('reliability', formatMarkdown(report));
    console.log(`# README.md "Reliability" updated`);
  }
  const m = report.machine;
  console.log(
    `${report.ok ? 'OK' : 'FAILED'}: ${report.rows.length} rows in ${report.seconds} s on ${m.cpus} x ${m.cpuModel}, ` +
      `Node ${m.node}; written to ${out}`,
  );
  await shutdown(report.ok ? 0 : 1);
} catch (error) {
  console.error(`test:chaos: ${(error as Error).stack ?? String(error)}`);
  await shutdown(1);
}
