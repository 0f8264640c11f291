#!/usr/bin/env node
// Installed from the package: the compiled CLI in dist/. In a checkout of the repository (the
// TypeScript sources beside this file, tsx among the dev dependencies): the sources through tsx, so
// there is no build step between an edit and a run, and a stale dist/ is never what runs.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

if (existsSync(new URL('../client/cli.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../client/cli.ts');
} else {
  await import('../dist/client/cli.js');
}
