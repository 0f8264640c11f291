#!/usr/bin/env node
// `npm run build:dist` (and `npm pack` through prepack): the sources compiled to dist/ in the same
// shape, relative imports given their `.js` / `/index.js` endings (tsc-alias) so that Node ESM and
// TypeScript's NodeNext resolution load them, and the one plain-JS file the dev stack spawns.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
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
