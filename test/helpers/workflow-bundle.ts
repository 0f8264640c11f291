// The workflow code bundled once per test run (test/run.ts, test/chaos/run.ts): every worker the
// tests start loads that file instead of bundling the sources again (seconds each on a busy machine).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_VARIABLE } from '../../worker';
import { tracingInterceptorsModule } from '../../worker/tracing';

/** The bundle's path, set by the test runners for every test process (and the CLIs they start). */
export { WORKFLOW_BUNDLE_VARIABLE };

const MAIN_WORKFLOWS = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface WrittenBundle {
  codePath: string;
  bytes: number;
  ms: number;
  cleanup(): Promise<void>;
}

/** Bundles the workflow code (with the tracing interceptors, as CoastyPlugin does) into a fresh temporary directory. */
export async function writeWorkflowBundle(workflowsPath = MAIN_WORKFLOWS): Promise<WrittenBundle> {
  const started = performance.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [tracingInterceptorsModule],
    logger: bundlerLogger,
  });
  const dir = await mkdtemp(join(tmpdir(), 'coasty-workflows-'));
  const codePath = join(dir, 'workflows.js');
  await writeFile(codePath, code);
  return {
    codePath,
    bytes: code.length,
    ms: Math.round(performance.now() - started),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The run's bundle for `createWorker({ workflowBundle })`; undefined outside a runner (then sources). */
export function testWorkflowBundle(): { codePath: string } | undefined {
  const codePath = process.env[WORKFLOW_BUNDLE_VARIABLE];
  return codePath ? { codePath } : undefined;
}

const bundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.error(`workflow bundler: ${message}`);
  },
  error(message: string) {
    console.error(`workflow bundler: ${message}`);
  },
};
