// `approve <id>` and `reject <id>`: answer the pause a process waits at.
import { Command } from 'commander';
import { decide, type DecisionSent } from '../decide';
import { EXIT } from '../errors';
import { safeText } from '../safe-text';
import { AmbiguousPause } from '../process-errors';
import { cliErrorFor } from './process-errors';
import { pauseWhere } from '../watch/format';
import {
  action,
  addCommonOptions,
  defaultDecider,
  printJson,
  withTarget,
  type CommonOptions,
} from './common';

interface DecideFlags extends CommonOptions {
  message?: string;
  by?: string;
  all?: boolean;
  request?: string;
}

export function decideCommand(verb: 'approve' | 'reject'): Command {
  const command = new Command(verb)
    .description(
      verb === 'approve'
        ? 'approve what a process waits for (a chain forwards it to the waiting step; a batch: name the item)'
        : 'reject what a process waits for (the run ends failed with rejected_by_human; a gate follows its policy)',
    )
    .argument('<id>', 'workflow id: a process, <chain id>/<step id>, or <batch id>/<item key>')
    .option('-m, --message <text>', 'a message for the agent and the record')
    .option('--by <name>', 'who decides, recorded with the decision (default: your user name)')
    .option('--all', 'decide every item of a batch that waits, not just the only one')
    .option('--request <request id>', 'answer only this pause (its request id, from status --json)');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, flags: DecideFlags) =>
      withTarget(flags, async (target) => {
        const sent = await decide(target.client, id, {
          action: verb,
          message: flags.message,
          by: flags.by ?? defaultDecider(),
          all: flags.all,
          requestId: flags.request,
        }).catch((error: unknown) => {
          throw error instanceof AmbiguousPause ? cliErrorFor(error, verb) : error;
        });
        if (flags.json) printJson(sent.length === 1 ? sent[0] : sent);
        else for (const one of sent) process.stdout.write(`${safeText(describe(one))}\n`);
        return EXIT.ok;
      }),
    ),
  );
}

function describe(sent: DecisionSent): string {
  const what = pauseWhere(sent);
  const verb = sent.action === 'approve' ? 'Approved' : 'Rejected';
  if (!sent.accepted) return `${what} of ${sent.workflowId} had been decided already: nothing changed.`;
  const via = sent.target === sent.workflowId ? '' : ` (${sent.target})`;
  return `${verb} ${what} of ${sent.workflowId}${via}: ${sent.reason}`;
}
