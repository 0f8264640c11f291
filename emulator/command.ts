// `coasty-temporal emulator ...`: start the emulator from the command line.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfigFile, MAX_MACHINES, type EmulatorConfigInput } from './config';
import { DEFAULT_API_KEY, startEmulator, type RunningEmulator } from './index';

export interface EmulatorCommandOptions {
  port: number;
  host: string;
  apiKey: string;
  adminKey?: string;
  config?: string;
  machines?: number;
  seed?: number;
  paceMs?: number;
}

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('run a local server that speaks the runs API (simulated agent, faults on demand)')
    .option('--port <port>', 'port to listen on (0 = any free port)', integer('port', 0, 65535), 8787)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-key <key>', 'API key clients must send as a bearer token', DEFAULT_API_KEY)
    .option('--admin-key <key>', 'bearer key of the /_emulator admin API (default: derived from the API key)')
    .option('--config <file>', 'emulator configuration (YAML or JSON)')
    .option('--machines <n>', 'number of machines m-1..m-N', integer('machines', 1, MAX_MACHINES))
    .option('--seed <seed>', 'seed of every random choice', integer('seed', 0, 2 ** 32 - 1))
    .option('--pace-ms <ms>', 'milliseconds between agent steps', integer('pace-ms', 0, 3_600_000))
    .action(async (options: EmulatorCommandOptions, command: Command) => {
      // Listening for the signals before anything is printed: whoever read the banner may stop us at once.
      const signalled = nextStopSignal();
      let emulator: RunningEmulator;
      try {
        emulator = await startFromOptions(options);
      } catch (err) {
        command.error(`emulator: ${startErrorMessage(err)}`, { exitCode: 1 });
      }
      printBanner(emulator);
      const signal = await signalled;
      process.stdout.write(`\n${signal}: stopping the emulator\n`);
      await emulator.stop();
    });
}

export async function startFromOptions(options: EmulatorCommandOptions): Promise<RunningEmulator> {
  const fromFile = options.config ? await loadConfigFile(options.config) : undefined;
  const fromFlags: EmulatorConfigInput = {};
  if (options.machines !== undefined) fromFlags.machines = options.machines;
  if (options.seed !== undefined) fromFlags.seed = options.seed;
  if (options.paceMs !== undefined) fromFlags.agent = { ...fromFile?.agent, paceMs: options.paceMs };
  return startEmulator({
    port: options.port,
    host: options.host,
    apiKey: options.apiKey,
    adminKey: options.adminKey,
    config: { ...fromFile, ...fromFlags },
  });
}

function startErrorMessage(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `${(err as Error).message}: the port is taken; choose another with --port (0 = any free port)`;
  }
  return String((err as Error)?.stack ?? err);
}

function printBanner(emulator: RunningEmulator): void {
  const lines = [
    `runs API emulator listening on ${emulator.url}`,
    `  base URL:       ${emulator.baseUrl}`,
    `  API key:        ${emulator.apiKey}`,
    `  admin key:      ${emulator.adminKey}`,
    `  webhook secret: ${emulator.webhookSecret}`,
    `  machines:       ${machineList(emulator.machines)}`,
    `  seed:           ${emulator.config.seed}, step pace ${emulator.config.agent.paceMs} ms`,
    '',
    `  export COASTY_BASE_URL=${emulator.baseUrl} COASTY_API_KEY=${emulator.apiKey}`,
    '  Ctrl+C stops it.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Every id of a few machines; the first and last of a fleet (thousands of ids are no banner). */
function machineList(machines: string[]): string {
  if (machines.length <= 20) return machines.join(', ');
  return `${machines.slice(0, 3).join(', ')}, ..., ${machines.at(-1)} (${machines.length})`;
}

function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`--${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}
