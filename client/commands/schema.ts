// `schema`: the JSON Schema of process files (for editors: yaml-language-server, VS Code).
import { Command } from 'commander';
import { action } from './common';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of process files (point your editor at it)')
    .option('--json', 'the same (the schema is JSON)')
    .action(
      action(async () => {
        const { processJsonSchema } = await import('../process-file');
        process.stdout.write(`${JSON.stringify(processJsonSchema(), null, 2)}\n`);
      }),
    );
}
