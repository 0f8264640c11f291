// `watch <id>`: the live view of a running process (chain, batch or single run), with approvals.
import { Command } from 'commander';
import {
  action,
  addCommonOptions,
  addWatchOptions,
  withTarget,
  type CommonOptions,
  type WatchFlags,
} from './common';
import { follow } from './follow';

export function watchCommand(): Command {
  const command = new Command('watch')
    .description('watch a process until it ends; answer its approvals inline')
    .argument(
      '<id>',
      'workflow id (a process, or one run of it: <chain id>/<step id>, <batch id>/<item key>)',
    );
  addWatchOptions(addCommonOptions(command));
  return command.action(
    action(async (id: string, flags: CommonOptions & WatchFlags) =>
      withTarget(flags, async (target) => (await follow(target, id, flags)).code),
    ),
  );
}
