import { Command } from 'commander';

const program = new Command('coasty-temporal')
  .description('Durable orchestration of computer-use agent runs on Temporal')
  .showHelpAfterError();

program
  .command('run')
  .argument('<file>', 'process file (YAML)')
  .description('start a process and watch it until done')
  .action(() => {
    console.error('`run` is coming (issue 6).');
    process.exitCode = 2;
  });

await program.parseAsync();
