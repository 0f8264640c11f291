#!/usr/bin/env node
// `npm run build:dist` (and `npm pack` through prepack): the sources compiled to dist/ in the same
// shape, relative imports given their `.js` / `/index.js` endings (tsc-alias) so that Node ESM and
// TypeScript's NodeNext resolution load them, the files read or spawned beside the code, and the
// workflow bundle the packaged worker starts from.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', ...command), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(['typescript', 'bin', 'tsc'], ['-p', 'tsconfig.build.json']);
run(['tsc-alias', 'dist', 'bin', 'index.js'], ['-p', 'tsconfig.build.json']);
copyFileSync(join(root, 'dev', 'orphan-guard.mjs'), join(root, 'dist', 'dev', 'orphan-guard.mjs'));
// What serve/app.ts reads beside itself: the pages' stylesheet and live-update script.
cpSync(join(root, 'serve', 'static'), join(root, 'dist', 'serve', 'static'), { recursive: true });

// The workflow code bundled once, here: workers of the installed package load it (worker/index.ts
// prebuiltBundlePath) instead of bundling for seconds at every start. With the tracing interceptors,
// as CoastyPlugin bundles (worker/tracing.ts tracingInterceptorsModule): spans only with an OTLP endpoint.
const { bundleWorkflowCode } = await import('@temporalio/worker');
const { code } = await bundleWorkflowCode({
  workflowsPath: join(root, 'dist', 'workflows', 'index.js'),
  workflowInterceptorModules: [join(root, 'dist', 'workflows', 'tracing-interceptors.js')],
  logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
});
writeFileSync(join(root, 'dist', 'workflows', 'bundle.js'), code);
