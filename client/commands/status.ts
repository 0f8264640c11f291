// `status <id>`: one picture of a process: its steps or items, cost, who waits, and how it ended.
import { dollars } from '../../core/money';
import { Command } from 'commander';
import { EXIT } from '../errors';
import { readOutcome, type Outcome } from '../outcome';
import { safeText } from '../safe-text';
import { isClosed, SnapshotReader, type Snapshot } from '../snapshot';
import { pauseCommands, pauseWhere } from '../watch/format';
import { batchBar, headline, idWidth, lineText, SYMBOL, toneOf } from '../watch/lines';
import { action, addCommonOptions, printJson, withTarget, type CommonOptions } from './common';

export function statusCommand(): Command {
  const command = new Command('status')
    .description('show a process once: steps or items, cost, who waits, the result')
    .argument('<id>', 'workflow id');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, flags: CommonOptions) =>
      withTarget(flags, async (target) => {
        const snapshot = await new SnapshotReader(target.client, id).read();
        const outcome = isClosed(snapshot.execution) ? await readOutcome(target.client, id) : undefined;
        if (flags.json) printJson({ ...snapshot, ...(outcome ? { outcome } : {}) });
        else process.stdout.write(statusText(snapshot, outcome));
        return EXIT.ok;
      }),
    ),
  );
}

export function statusText(snapshot: Snapshot, outcome: Outcome | undefined, now = Date.now()): string {
  const tone = outcome ? (outcome.ok ? 'ok' : 'bad') : toneOf(snapshot.status);
  const out = [`${SYMBOL[tone]} ${headline(snapshot, now)}`];
  out.push(`  workflow ${snapshot.workflowId} (${snapshot.workflowType}), task queue ${snapshot.taskQueue}`);
  if (snapshot.batch) out.push(`  ${batchBar(snapshot)}`);
  const ids = idWidth(snapshot.lines);
  for (const line of snapshot.lines)
    out.push(`  ${SYMBOL[toneOf(line.state)]} ${lineText(line, ids, now, 200)}`);
  for (const pause of snapshot.pauses) {
    out.push(`  ? ${pauseWhere(pause)} waits for a person: ${pause.reason}`);
    if (pause.proposedAction) out.push(`    next action: ${pause.proposedAction}`);
    for (const command of pauseCommands(snapshot, pause)) out.push(`    ${command}`);
  }
  if (snapshot.budget) {
    out.push(
      `  ? waits for budget: needs ${dollars(snapshot.budget.neededUsd)} of ${dollars(snapshot.budget.maxCostUsd)}: ` +
        `npx coasty-temporal raise-budget ${snapshot.workflowId} <usd>`,
    );
  }
  if (snapshot.progressError) out.push(`  ! ${snapshot.progressError}`);
  if (outcome) out.push(`  ended ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
  // The agent's words (results, errors, questions) are in these lines: one line each, nothing a terminal acts on.
  return `${out.map((line) => safeText(line)).join('\n')}\n`;
}
