// Follows a process until it ends or the watch is interrupted: reads a snapshot, shows it, and when a
// person is needed approves automatically, asks inline, or says how to answer from another terminal.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { RunsClient } from '../../api/runs-client';
import { sendDecision } from '../decide';
import { CliError } from '../errors';
import { ProcessError } from '../process-errors';
import { readOutcome, type Outcome } from '../outcome';
import type { Prompter } from '../prompt';
import { safeBlock, safeText } from '../safe-text';
import { isClosed, SnapshotReader, type Pause, type Snapshot } from '../snapshot';
import { pauseCommands, pauseWhere } from './format';
import type { View } from './view';

/**
 * prompt: ask inline (a terminal or a pipe) and fall back to `wait` when the input ends;
 * auto: approve every pause (--auto-approve, for CI and tests);
 * wait: say how to approve from another terminal and wait.
 */
export type ApprovalMode = 'prompt' | 'auto' | 'wait';

export interface WatchOptions {
  client: Client;
  /** The runs API, when this process may read it: live steps of runs with webhook delivery. */
  runs?: RunsClient;
  workflowId: string;
  view: View;
  approvals: ApprovalMode;
  prompter?: Prompter;
  /** Where the prompt's question goes (default stdout). */
  promptOut?: NodeJS.WritableStream;
  /** Who decides (recorded with the decision). */
  by?: string;
  signal: AbortSignal;
  pollMs?: number;
}

export interface WatchResult {
  snapshot?: Snapshot;
  outcome?: Outcome;
  interrupted: boolean;
}

const MAX_READ_FAILURES = 10;

export async function watchProcess(options: WatchOptions): Promise<WatchResult> {
  const { client, workflowId, view, signal } = options;
  const reader = new SnapshotReader(client, workflowId, { runs: options.runs });
  const pollMs = options.pollMs ?? 500;
  const handled = new Set<string>();
  let mode = options.approvals;
  let snapshot: Snapshot | undefined;
  let failures = 0;

  while (!signal.aborted) {
    try {
      snapshot = await reader.read();
      failures = 0;
    } catch (error) {
      if (error instanceof CliError || error instanceof ProcessError || signal.aborted) throw error;
      failures += 1;
      if (failures >= MAX_READ_FAILURES) {
        throw new CliError(`Lost Temporal while watching ${workflowId}: ${(error as Error).message}`);
      }
      await pause(Math.min(5000, 250 * 2 ** failures), signal);
      continue;
    }
    view.update(snapshot);
    if (isClosed(snapshot.execution)) {
      const outcome = await readOutcome(client, workflowId);
      snapshot = (await reader.read().catch(() => undefined)) ?? snapshot;
      view.finish(snapshot, outcome);
      return { snapshot, outcome, interrupted: false };
    }
    for (const open of snapshot.pauses) {
      const key = `${open.workflowId}#${open.requestId}`;
      if (handled.has(key) || signal.aborted) continue;
      handled.add(key);
      if (mode === 'auto') {
        await decideAndNote(options, open, { action: 'approve', message: 'approved by --auto-approve' });
      } else if (mode === 'prompt' && options.prompter && !options.prompter.ended) {
        const answered = await promptFor(options, reader, snapshot, open);
        if (options.prompter.ended) {
          mode = 'wait';
          // The question is on screen already: only a pause left open is shown again, with its commands.
          if (!answered) {
            view.note('The input ended: answer from another terminal.');
            view.announcePause(snapshot, open);
          }
        }
      } else {
        view.announcePause(snapshot, open);
      }
    }
    await pause(pollMs, signal);
  }
  return { snapshot, interrupted: true };
}

/** Asks inline; true when the pause was answered (here, or elsewhere while asking). */
async function promptFor(
  options: WatchOptions,
  reader: SnapshotReader,
  snapshot: Snapshot,
  open: Pause,
): Promise<boolean> {
  const { view, prompter, signal } = options;
  const out = options.promptOut ?? process.stdout;
  view.suspend();
  out.write(`${questionLines(snapshot, open).join('\n')}\n`);
  const asking = new AbortController();
  const stopAsking = () => asking.abort();
  signal.addEventListener('abort', stopAsking, { once: true });
  let decidedElsewhere = false;
  const stillOpen = (async () => {
    while (!asking.signal.aborted) {
      await pause(1000, asking.signal);
      if (asking.signal.aborted) return;
      const now = await reader.read().catch(() => undefined);
      if (!now) continue;
      const open2 = now.pauses.some(
        (p) => p.workflowId === open.workflowId && p.requestId === open.requestId,
      );
      if (!open2 || isClosed(now.execution)) {
        decidedElsewhere = true;
        asking.abort();
      }
    }
  })();
  const answer = await prompter!.ask(
    'Approve? [a]pprove / [r]eject, then an optional message: ',
    asking.signal,
  );
  asking.abort();
  signal.removeEventListener('abort', stopAsking);
  await stillOpen;
  if (answer) {
    await decideAndNote(options, open, answer);
  } else if (decidedElsewhere) {
    out.write('\n');
    view.note(`${pauseWhere(open)} was answered elsewhere.`);
  }
  view.resume();
  return Boolean(answer) || decidedElsewhere;
}

/**
 * What the person is asked. The question and the proposed action hold the agent's words: they are made
 * safe, indented under their heading, and bounded so that they cannot push the heading off the screen.
 */
export function questionLines(snapshot: Snapshot, open: Pause): string[] {
  const [approve] = pauseCommands(snapshot, open);
  const whereInFull = `npx coasty-temporal status ${snapshot.workflowId} --json`;
  return [
    '',
    safeText(`? ${snapshot.name}: ${pauseWhere(open)} waits for a person:`),
    ...safeBlock(open.reason, { indent: '  ', maxLines: 12, maxChars: 1200, whereInFull }),
    ...(open.proposedAction
      ? [
          '  next action:',
          ...safeBlock(open.proposedAction, { indent: '    ', maxLines: 4, maxChars: 400, whereInFull }),
        ]
      : []),
    safeText(`  (or from another terminal: ${approve})`),
  ];
}

async function decideAndNote(
  options: WatchOptions,
  open: Pause,
  decision: { action: 'approve' | 'reject'; message?: string },
): Promise<void> {
  try {
    const ack = await sendDecision(options.client, open, { ...decision, by: options.by });
    const verb = decision.action === 'approve' ? 'Approved' : 'Rejected';
    options.view.note(
      ack.accepted
        ? `${verb} ${pauseWhere(open)}${decision.message ? `: ${decision.message}` : ''}`
        : `${pauseWhere(open)} had been decided already; your ${decision.action} was not needed.`,
      {
        decision: decision.action,
        target: open.workflowId,
        requestId: open.requestId,
        accepted: ack.accepted,
      },
    );
  } catch (error) {
    options.view.note(`Could not ${decision.action} ${pauseWhere(open)}: ${(error as Error).message}`);
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
