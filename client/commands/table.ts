// Every subcommand, by name, in the order the help lists them. Each
// module is imported only when its command runs, or for the full help: a `status` does not load the
// emulator, serve or the process-file parser (on Node 20 that is about a fifth of a command's CPU).
import type { Command } from 'commander';

export const COMMAND_LOADERS: ReadonlyArray<readonly [name: string, load: () => Promise<Command>]> = [
  ['worker', async () => (await import('./worker')).workerCommand()],
  ['emulator', async () => (await import('../../emulator/command')).emulatorCommand()],
  ['run', async () => (await import('./run')).runCommand()],
  ['start', async () => (await import('./run')).startCommand()],
  ['watch', async () => (await import('./watch')).watchCommand()],
  ['approve', async () => (await import('./decide')).decideCommand('approve')],
  ['reject', async () => (await import('./decide')).decideCommand('reject')],
  ['cancel', async () => (await import('./cancel')).cancelCommand()],
  ['list', async () => (await import('./list')).listCommand()],
  ['status', async () => (await import('./status')).statusCommand()],
  ['raise-budget', async () => (await import('./control')).raiseBudgetCommand()],
  ['pause', async () => (await import('./control')).pauseResumeCommand('pause')],
  ['resume', async () => (await import('./control')).pauseResumeCommand('resume')],
  ['dev', async () => (await import('./dev')).devCommand()],
  ['schema', async () => (await import('./schema')).schemaCommand()],
  ['codec-server', async () => (await import('./codec-server')).codecServerCommand()],
  ['serve', async () => (await import('./serve')).serveCommand()],
  ['webhooks', async () => (await import('./webhooks')).webhooksCommand()],
  ['link', async () => (await import('./link')).linkCommand()],
];

/**
 * The commands an invocation needs: the one it names as its first word, else all of them (the full
 * help, `help <command>`, or an unknown word that commander answers with a suggestion).
 */
export async function commandsFor(args: readonly string[]): Promise<Command[]> {
  const first = args.find((arg) => !arg.startsWith('-'));
  const named = COMMAND_LOADERS.find(([name]) => name === first);
  const loaders = named ? [named] : COMMAND_LOADERS;
  return Promise.all(loaders.map(([, load]) => load()));
}
