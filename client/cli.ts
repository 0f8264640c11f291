import { Command } from 'commander';
import { commandsFor } from './commands/table';
import { EXIT } from './errors';

const EXIT_CODES_HELP = `
Exit codes: 0 success (run/watch: the process succeeded), 1 the process failed, was cancelled or
timed out, or the command could not do its job, 2 bad usage (unknown option, bad argument, invalid
process file), 130 Ctrl-C stopped watching (the process goes on).

Without TEMPORAL_ADDRESS and COASTY_BASE_URL, commands use the local stack that \`npm start\` or
\`coasty-temporal dev\` runs in this directory, or start one (Temporal dev server, emulator, worker).`;

const program = new Command('coasty-temporal')
  .description('Durable orchestration of computer-use agent runs on Temporal')
  .showHelpAfterError()
  .addHelpText('after', EXIT_CODES_HELP)
  .exitOverride((error) => {
    // commander's own exits: help and version are success, every usage error is exit code 2.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

for (const command of await commandsFor(process.argv.slice(2))) program.addCommand(command);

// Subcommands inherit the usage-error handling (exit 2, help after the error).
for (const command of program.commands) {
  command.showHelpAfterError().exitOverride((error) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });
}

try {
  await program.parseAsync();
} catch (error) {
  console.error(`coasty-temporal: ${(error as Error).message}`);
  process.exit(EXIT.failed);
}
