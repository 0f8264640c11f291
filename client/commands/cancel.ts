// `cancel <id>`: cancel a process; its runs are cancelled at the API and it ends `cancelled`.
import { Command } from 'commander';
import { cancelProcess } from '../control';
import { EXIT } from '../errors';
import { readOutcome } from '../outcome';
import { action, addCommonOptions, printJson, withTarget, type CommonOptions } from './common';

export function cancelCommand(): Command {
  const command = new Command('cancel')
    .description('cancel a process (its runs in flight are cancelled at the API)')
    .argument('<id>', 'workflow id')
    .option('--wait', 'wait until the process has ended');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, flags: CommonOptions & { wait?: boolean }) =>
      withTarget(flags, async (target) => {
        await cancelProcess(target.client, id);
        const outcome = flags.wait ? await readOutcome(target.client, id) : undefined;
        if (flags.json) {
          printJson({ workflowId: id, cancelRequested: true, ...(outcome ? { outcome } : {}) });
        } else {
          process.stdout.write(
            outcome
              ? `${id} ended ${outcome.status}.\n`
              : `Cancellation of ${id} requested; follow it with: npx coasty-temporal watch ${id}\n`,
          );
        }
        return EXIT.ok;
      }),
    ),
  );
}
