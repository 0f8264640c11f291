import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const MIN_GO = [1, 25] as const;

export type TemporalCliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
  version: string;
}

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

interface FindOptions {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Build when no CLI is found (default true). */
  build?: boolean;
  /** How often a build (or a wait for another process's build) says it is alive (default 15 s). */
  progressIntervalMs?: number;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 15_000;
/** What the build took on a 2-core machine (338 s measured; 4 to 6 minutes is usual). */
const USUAL_BUILD = 'usually 4 to 6 minutes on 2 cores';

export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root =
    env.COASTY_TEMPORAL_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'coasty-temporal');
  return join(root, `temporal-${TEMPORAL_CLI_VERSION}`);
}

/** Finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, cache) or builds it once from Go modules. */
export async function findTemporalCli(options: FindOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(line));

  if (env.TEMPORAL_CLI_PATH) {
    const path = env.TEMPORAL_CLI_PATH;
    if (!existsSync(path)) {
      throw new TemporalCliError(
        `TEMPORAL_CLI_PATH points to ${path}, which does not exist. Fix the path or unset it.`,
      );
    }
    return { path, source: 'TEMPORAL_CLI_PATH', version: checkVersion(path) };
  }
  const onPath = whichOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'PATH', version: checkVersion(onPath) };

  const cached = join(temporalCacheDir(env), 'temporal');
  if (existsSync(cached)) return { path: cached, source: 'cache', version: checkVersion(cached) };
  if (options.build === false) {
    throw new TemporalCliError(`No Temporal CLI found (TEMPORAL_CLI_PATH, PATH, ${cached}).`);
  }
  await buildTemporalCli(env, log, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
  return { path: cached, source: 'built', version: checkVersion(cached) };
}

function whichOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function checkVersion(path: string): string {
  const out = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (out.status !== 0) {
    throw new TemporalCliError(
      `${path} --version failed (${out.error?.message ?? `exit ${out.status}`}): ${(out.stderr ?? '').trim().slice(0, 300)}`,
    );
  }
  return out.stdout.trim();
}

function goVersion(env: NodeJS.ProcessEnv): [number, number] | undefined {
  const out = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env, timeout: 30_000 });
  if (out.error || out.status !== 0) return undefined;
  const match = /go(\d+)\.(\d+)/.exec(out.stdout);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function noCliHelp(): string {
  return (
    `To avoid the build, set TEMPORAL_CLI_PATH to an existing temporal binary, put \`temporal\` on PATH, ` +
    `or point TEMPORAL_ADDRESS at a running Temporal server.`
  );
}

async function buildTemporalCli(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  progressIntervalMs: number,
): Promise<void> {
  const version = goVersion(env);
  if (!version) {
    throw new TemporalCliError(
      `No Temporal CLI found and no Go toolchain to build it: install Go >= ${MIN_GO.join('.')} (https://go.dev/dl). ${noCliHelp()}`,
    );
  }
  if (version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    throw new TemporalCliError(
      `Go ${version.join('.')} is too old to build Temporal CLI v${TEMPORAL_CLI_VERSION}: it needs Go >= ${MIN_GO.join('.')}. ${noCliHelp()}`,
    );
  }
  const dir = temporalCacheDir(env);
  mkdirSync(dir, { recursive: true });
  const finalPath = join(dir, 'temporal');
  const release = await acquireBuildLock(join(dir, 'build.lock'), finalPath, log, progressIntervalMs);
  if (!release) return; // another process finished the build while we waited
  const tmpBin = join(dir, `build-${process.pid}`);
  const progress = new GoBuildProgress();
  const started = Date.now();
  const ticker = setInterval(
    () =>
      log(
        `  Temporal CLI build: ${formatElapsed(Date.now() - started)} elapsed (${USUAL_BUILD}); ${progress.describe()}`,
      ),
    progressIntervalMs,
  );
  try {
    log(
      `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} from Go modules into ${dir}: a one-time build of several minutes (${USUAL_BUILD}); later starts use it at once.`,
    );
    rmSync(tmpBin, { recursive: true, force: true });
    const stderr = await runGoInstall(tmpBin, env, (line) => progress.see(line));
    if (!existsSync(join(tmpBin, 'temporal'))) {
      const goEnv = spawnSync('go', ['env', 'GOPROXY', 'GOSUMDB', 'GOFLAGS'], {
        encoding: 'utf8',
        env,
      }).stdout.trim();
      throw new TemporalCliError(
        `go install ${GO_PACKAGE} failed:\n${stderr.slice(-3000)}\n(go env GOPROXY GOSUMDB GOFLAGS: ${goEnv.replace(/\n/g, ' ')})\n${noCliHelp()}`,
      );
    }
    renameSync(join(tmpBin, 'temporal'), finalPath);
    log(
      `Built the Temporal CLI in ${formatElapsed(Date.now() - started)} (${progress.describe()}): ${finalPath}`,
    );
  } finally {
    clearInterval(ticker);
    rmSync(tmpBin, { recursive: true, force: true });
    release();
  }
}

/**
 * What `go install -v` has said so far: `go: downloading <module> <version>` per module fetched,
 * then one line per package compiled (its import path).
 */
export class GoBuildProgress {
  downloads = 0;
  packages = 0;
  last = '';

  see(line: string): void {
    const text = line.trim();
    const download = /^go: downloading (\S+)/.exec(text);
    if (download) {
      this.downloads++;
      this.last = `downloading ${download[1]}`;
    } else if (/^[\w.~-]+(\/[\w.~+-]+)*$/.test(text)) {
      this.packages++;
      this.last = `compiled ${text}`;
    }
  }

  describe(): string {
    if (this.downloads === 0 && this.packages === 0) return 'go has reported nothing yet';
    return `${this.downloads} modules downloaded, ${this.packages} packages compiled${this.last ? `; last: ${this.last}` : ''}`;
  }
}

export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return seconds < 60
    ? `${seconds} s`
    : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

function runGoInstall(
  gobin: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'go',
      [
        'install',
        '-v',
        `-ldflags=-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
        GO_PACKAGE,
      ],
      {
        env: { ...env, GOTOOLCHAIN: 'local', GOBIN: gobin },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.on('error', reject);
    child.on('close', () => resolve(stderr));
  });
}

/**
 * An exclusive lock file holding the builder's pid. Returns a release function, or undefined when
 * the binary appeared while waiting. A lock left by a dead process is taken over.
 */
async function acquireBuildLock(
  lockPath: string,
  finalPath: string,
  log: (line: string) => void,
  progressIntervalMs: number,
): Promise<(() => void) | undefined> {
  let announced = false;
  const started = Date.now();
  let lastNote = started;
  for (;;) {
    if (existsSync(finalPath)) return undefined;
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileIfExists(lockPath));
    if (holder && !isAlive(holder)) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (!announced) {
      log(
        `Waiting for another process (pid ${holder}) to finish building the Temporal CLI (${USUAL_BUILD})...`,
      );
      announced = true;
    } else if (Date.now() - lastNote >= progressIntervalMs) {
      lastNote = Date.now();
      log(
        `  still waiting for the Temporal CLI build of pid ${holder}: ${formatElapsed(lastNote - started)}`,
      );
    }
    // Polls the lock: the other process may die without a word, and then its lock is taken over.
    await sleep(Math.min(1000, progressIntervalMs));
  }
}

function readFileIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
