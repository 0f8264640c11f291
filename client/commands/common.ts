// What the client commands share: options, connecting, output, interruption, errors and exit codes.
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { ProcessSpec } from '../../workflows/process-types';
import { connectTarget, type Target } from '../connect';
import { CliError, EXIT, UsageError } from '../errors';
import { ProcessError } from '../process-errors';
import { cliErrorFor } from './process-errors';
import { safeText } from '../safe-text';
import { shutdownTracing } from '../../worker/tracing';

export interface CommonOptions {
  json?: boolean;
  taskQueue?: string;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option('--json', 'machine-readable output (JSON; for run and watch: one JSON object per line)')
    .option(
      '--task-queue <name>',
      'task queue of the worker (default: COASTY_TASK_QUEUE, the local stack\'s, else "coasty-temporal")',
    );
}

export function addWatchOptions(command: Command): Command {
  return command
    .option('-y, --auto-approve', 'approve every pause automatically (CI, tests, demos)')
    .option('--no-prompt', 'never ask inline: print how to approve from another terminal and wait')
    .option('--by <name>', 'who decides, recorded with each decision (default: your user name)');
}

export interface WatchFlags {
  autoApprove?: boolean;
  /** commander's --no-prompt: false when given. */
  prompt?: boolean;
  by?: string;
}

export function defaultDecider(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'cli';
  }
}

/** Messages for people: stdout normally, stderr when stdout carries JSON. */
export function infoWriter(json: boolean | undefined): (line: string) => void {
  return json ? (line) => process.stderr.write(`${line}\n`) : (line) => process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Connects (possibly starting a local stack), runs `fn`, and always disconnects (stopping that stack). */
export async function withTarget<T>(
  options: CommonOptions & { startStack?: boolean },
  fn: (target: Target) => Promise<T>,
): Promise<T> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const target = await connectTarget({ taskQueue: options.taskQueue, startStack: options.startStack, log });
  try {
    if (target.mode === 'embedded') printStackBanner(target, infoWriter(options.json));
    return await fn(target);
  } finally {
    await target.close();
  }
}

export function printStackBanner(target: Target, info: (line: string) => void): void {
  const stack = target.stack!;
  const record = stack.record;
  info('Local stack (TEMPORAL_ADDRESS and COASTY_BASE_URL are not set):');
  info(
    `  Temporal    ${record.temporalAddress}, namespace ${record.namespace}, state in ${stack.dbFilename}`,
  );
  if (record.uiUrl) info(`  Web UI      ${record.uiUrl}`);
  info(`  runs API    ${record.apiBaseUrl} (the emulator)`);
  if (record.serveUrl) info(`  Approve in the browser: ${record.serveUrl}`);
  info(`  worker      task queue ${record.taskQueue} (its log: ${stack.workerLog})`);
  for (const note of stack.notes) info(`  note: ${note}`);
}

export function webUiLink(target: Target, workflowId: string): string | undefined {
  if (!target.uiUrl) return undefined;
  return `${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** `--input name=value`, repeatable. */
export function collectInput(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--input expects name=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

export async function loadSpec(
  file: string,
  inputs: Record<string, string> | undefined,
): Promise<ProcessSpec> {
  // Loaded on demand: the process-file parser (zod, yaml) is not needed by the other commands.
  const { ProcessFileError, loadProcessFile } = await import('../process-file');
  try {
    return await loadProcessFile(file, { inputs: inputs ?? {} });
  } catch (error) {
    if (error instanceof ProcessFileError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * An AbortSignal for Ctrl-C (and SIGTERM): the first stops watching; a second one exits at once
 * (the dev server's guard still stops the server).
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Runs a command's action: a CliError is one line on stderr and its exit code; others are bugs (exit 1). */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = (await fn(...args)) ?? EXIT.ok;
    } catch (thrown) {
      const error = thrown instanceof ProcessError ? cliErrorFor(thrown) : thrown;
      if (error instanceof CliError) {
        process.stderr.write(`coasty-temporal: ${safeText(error.message, { multiline: true })}\n`);
        if (error.exitCode === EXIT.usage) process.stderr.write('(see --help)\n');
        code = error.exitCode;
      } else {
        const text = (error as Error)?.stack ?? String(error);
        process.stderr.write(`coasty-temporal: ${safeText(text, { multiline: true })}\n`);
        code = EXIT.failed;
      }
    }
    // Exit now: an open prompt, a gRPC channel or a worker's native threads must not keep us alive.
    // Spans still batched (a start's, a local stack worker's) go out first.
    await shutdownTracing().catch(() => undefined);
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code);
  };
}
