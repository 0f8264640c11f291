// The folders' import rules that lint cannot state: no two modules import each other (directly or
// round a loop), and core/ imports nothing outside itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_DIRS = [
  'core',
  'api',
  'activities',
  'workflows',
  'worker',
  'client',
  'serve',
  'codec',
  'emulator',
  'dev',
];
const IMPORT = /(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(IMPORT)].flatMap((match) => {
    const target = normalize(join(dirname(file), match[1]!));
    const found = [`${target}.ts`, join(target, 'index.ts')].find((path) => existsSync(join(root, path)));
    return found ? [found] : [];
  });
}

const graph = new Map(SOURCE_DIRS.flatMap(sources).map((file) => [file, importsOf(file)]));

test('no module imports another that imports it back, directly or round a loop', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test('core/ imports only core/', () => {
  const outside = [...graph]
    .filter(([file]) => file.startsWith('core/'))
    .flatMap(([file, imports]) =>
      imports.filter((target) => !target.startsWith('core/')).map((t) => `${file} -> ${t}`),
    );
  assert.ok(
    graph.has('core/secrets.ts'),
    `no core/ modules found under ${relative(process.cwd(), root) || '.'}`,
  );
  assert.deepEqual(outside, []);
});
