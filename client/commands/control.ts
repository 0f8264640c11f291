// `raise-budget`, `pause`, `resume`: the controls of a chain or batch besides approvals.
import { dollars } from '../../core/money';
import { Command } from 'commander';
import { pauseSignal, resumeSignal } from '../../workflows/messages';
import { raiseBudget } from '../control';
import { EXIT } from '../errors';
import {
  action,
  addCommonOptions,
  defaultDecider,
  printJson,
  withTarget,
  type CommonOptions,
} from './common';
import { positiveUsd } from './numbers';

export function raiseBudgetCommand(): Command {
  const command = new Command('raise-budget')
    .description('raise the max_cost_usd of a chain or batch that waits for budget')
    .argument('<id>', 'workflow id')
    .argument('<usd>', 'the new budget in USD, e.g. 12.50', positiveUsd)
    .option('--by <name>', 'who raises it (default: your user name)');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, usd: number, flags: CommonOptions & { by?: string }) =>
      withTarget(flags, async (target) => {
        const request = { maxCostUsd: usd, by: flags.by ?? defaultDecider() };
        const { maxCostUsd } = await raiseBudget(target.client, id, request);
        if (flags.json) printJson({ workflowId: id, maxCostUsd });
        else process.stdout.write(`Budget of ${id}: ${dollars(maxCostUsd)}\n`);
        return EXIT.ok;
      }),
    ),
  );
}

export function pauseResumeCommand(verb: 'pause' | 'resume'): Command {
  const command = new Command(verb)
    .description(
      verb === 'pause'
        ? 'pause a batch: no new item starts (items in flight finish)'
        : 'resume a paused batch',
    )
    .argument('<id>', 'workflow id of the batch');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, flags: CommonOptions) =>
      withTarget(flags, async (target) => {
        await target.client.workflow.getHandle(id).signal(verb === 'pause' ? pauseSignal : resumeSignal);
        if (flags.json) printJson({ workflowId: id, signal: verb });
        else process.stdout.write(`${verb === 'pause' ? 'Paused' : 'Resumed'} ${id}.\n`);
        return EXIT.ok;
      }),
    ),
  );
}
