// Spawned `coasty-temporal` processes against the test run's Temporal server and a test emulator.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestStack } from '../helpers/stack';
import { cliNodeArgs } from '../helpers/test-build';
import { testServerAddress } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { tempDir } from '../helpers/temp-dir';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const children = new Set<ChildProcess>();

/** The environment of a CLI child: the test server, the test emulator, the stack's task queue. */
export function cliEnv(stack: TestStack, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: testServerAddress(),
    COASTY_BASE_URL: stack.emulator.baseUrl,
    COASTY_API_KEY: stack.emulator.apiKey,
    COASTY_TASK_QUEUE: stack.taskQueue,
    NO_COLOR: '1',
    ...extra,
  };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number>;
  /** Resolves with the first stdout line (or stderr with `stream: 'stderr'`) matching `pattern`. */
  waitForLine(
    pattern: RegExp,
    options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number },
  ): Promise<string>;
  text(): string;
}

export function spawnCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: 'pipe' | 'ignore'; asWritten?: boolean },
): CliProcess {
  const child = spawn(process.execPath, [...cliNodeArgs(options), ...args], {
    env: options.env,
    cwd: options.cwd ?? ROOT,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 128 : -1));
    }),
  );
  const text = () => `--- stdout\n${stdout.join('\n')}\n--- stderr\n${stderr.join('\n')}`;
  return {
    child,
    stdout,
    stderr,
    exited,
    text,
    waitForLine: (pattern, { stream = 'stdout', timeoutMs = 60_000 } = {}) =>
      waitUntil(
        `a line matching ${pattern} from coasty-temporal ${args.join(' ')}`,
        () => {
          if (
            child.exitCode !== null &&
            !(stream === 'stdout' ? stdout : stderr).some((l) => pattern.test(l))
          ) {
            throw new Error(`exited with ${child.exitCode}:\n${text()}`);
          }
          return (stream === 'stdout' ? stdout : stderr).find((line) => pattern.test(line));
        },
        timeoutMs,
        50,
      ),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end; `input` is written to its stdin, which is then closed. */
export async function runCli(
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd?: string;
    input?: string;
    timeoutMs?: number;
    asWritten?: boolean;
  },
): Promise<CliResult> {
  const cli = spawnCli(args, { ...options, stdin: options.input === undefined ? 'ignore' : 'pipe' });
  if (options.input !== undefined) cli.child.stdin!.end(options.input);
  const timeout = setTimeout(() => cli.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const code = await cli.exited;
  clearTimeout(timeout);
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n') };
}

/** Parses the stdout of a `--json` command (one JSON document). */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

/** Parses NDJSON (run/watch --json). */
export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function killAllCli(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** A temporary directory with process files. */
export function processFiles(files: Record<string, string>): string {
  const dir = tempDir('coasty-cli');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

let seq = 0;
/** A workflow id unique to this test process. */
export function uniqueId(label: string): string {
  seq += 1;
  return `cli-${label}-${process.pid}-${seq}`;
}
