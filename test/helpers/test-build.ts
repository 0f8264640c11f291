// The repository's TypeScript compiled once per test run (test/run.ts, test/chaos/run.ts), so that
// the test files, the CLI children and the worker children they start load plain JavaScript: under
// tsx every process pays its loader and a slower import of node_modules (about 1 CPU-s a process,
// measured; the suite starts some 250 of them). The build has the sources' shape (one file per
// source, relative imports given `.js`), and each file's `import.meta.url` is its source's, so
// files read beside the sources (static assets, fixtures, the README) are found where they are.
import { mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The build's directory, set by the test runners for every test process (and what they start). */
export const TEST_BUILD_VARIABLE = 'COASTY_TEST_BUILD';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = [
  'activities',
  'api',
  'client',
  'codec',
  'core',
  'dev',
  'emulator',
  'serve',
  'test',
  'worker',
  'workflows',
];

export interface WrittenTestBuild {
  dir: string;
  files: number;
  ms: number;
  cleanup(): Promise<void>;
}

async function listSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const outputName = (source: string) => source.replace(/\.ts$/, '.js');

/** Where the build in `dir` holds the compiled twin of `source` (a path in the repository). */
export function compiledPath(dir: string, source: string): string {
  return join(dir, outputName(relative(ROOT, resolve(source))));
}

/** Relative imports stay imports of the built file beside; only packages come from node_modules. */
const sourceShape: Plugin = {
  name: 'coasty-source-shape',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\.?(\/|$)/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const resolved = await esbuild.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolving',
      });
      if (resolved.errors.length) return { errors: resolved.errors };
      if (!resolved.path.endsWith('.ts')) return { path: pathToFileURL(resolved.path).href, external: true };
      const path = relative(dirname(args.importer), outputName(resolved.path)).split(sep).join('/');
      return { path: path.startsWith('.') ? path : `./${path}`, external: true };
    });
    esbuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

/** Compiles every source and test file into a fresh temporary directory. */
export async function writeTestBuild(): Promise<WrittenTestBuild> {
  const started = performance.now();
  const entryPoints = [
    join(ROOT, 'index.ts'),
    ...(await Promise.all(SOURCE_DIRS.map((dir) => listSources(join(ROOT, dir))))).flat(),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'coasty-test-build-'));
  try {
    await build({
      entryPoints,
      outdir: dir,
      outbase: ROOT,
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      tsconfig: join(ROOT, 'tsconfig.json'),
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [sourceShape],
    });
    // Packages resolve from the build as from the sources; "type": "module" comes with the link.
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await symlink(join(ROOT, 'package.json'), join(dir, 'package.json'));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    files: entryPoints.length,
    ms: Math.round(performance.now() - started),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * How `node` runs one of the repository's TypeScript files: its compiled twin when the test run
 * has a build, else the source through tsx (a test file started on its own).
 */
export function nodeArgsFor(source: string): string[] {
  const dir = process.env[TEST_BUILD_VARIABLE];
  if (!dir) return ['--import', 'tsx', source];
  return ['--enable-source-maps', compiledPath(dir, source)];
}

const BIN = join(ROOT, 'bin', 'coasty-temporal.js');

/**
 * How `node` runs `coasty-temporal`: the compiled CLI of the test run's build, else
 * bin/coasty-temporal.js as a user of the checkout runs it (also with `asWritten`, for the README's
 * own commands).
 */
export function cliNodeArgs(options: { asWritten?: boolean } = {}): string[] {
  if (options.asWritten || !process.env[TEST_BUILD_VARIABLE]) return [BIN];
  return nodeArgsFor(join(ROOT, 'client', 'cli.ts'));
}
