// The watching half of `run` and `watch`: pick the view and the approval mode, follow, and turn the
// end (done or Ctrl-C) into words and an exit code.
import { RunsClient } from '../../api/runs-client';
import type { Target } from '../connect';
import { EXIT } from '../errors';
import { exitCodeOf } from '../outcome';
import { Prompter } from '../prompt';
import { JsonView } from '../watch/json-view';
import { PlainView } from '../watch/plain-view';
import { TtyView } from '../watch/tty-view';
import type { View } from '../watch/view';
import { watchProcess, type ApprovalMode, type WatchResult } from '../watch/watcher';
import { defaultDecider, interruptSignal, webUiLink, type WatchFlags } from './common';

export interface FollowOptions extends WatchFlags {
  json?: boolean;
  /** What gets the same process watched again, e.g. `npm start` or `npx coasty-temporal run x.yaml`. */
  rerun?: string;
}

export async function follow(
  target: Target,
  workflowId: string,
  options: FollowOptions,
): Promise<{ code: number; result: WatchResult }> {
  const webUiUrl = webUiLink(target, workflowId);
  const view = chooseView(options.json, webUiUrl);
  const mode: ApprovalMode = options.autoApprove
    ? 'auto'
    : options.json || options.prompt === false
      ? 'wait'
      : 'prompt';
  const interrupt = interruptSignal();
  const prompter =
    mode === 'prompt'
      ? new Prompter(process.stdin, process.stdout, () => process.kill(process.pid, 'SIGINT'))
      : undefined;
  const runs = runsClientOf(target);
  try {
    const result = await watchProcess({
      client: target.client,
      runs,
      workflowId,
      view,
      approvals: mode,
      prompter,
      by: options.by ?? defaultDecider(),
      signal: interrupt.signal,
      pollMs: process.stdout.isTTY ? 500 : 1000,
    });
    if (result.interrupted) {
      view.interrupted(result.snapshot, interruptHints(target, workflowId, options.rerun));
      return { code: EXIT.interrupted, result };
    }
    return { code: exitCodeOf(result.outcome!), result };
  } finally {
    prompter?.close();
    interrupt.dispose();
    await runs?.close();
  }
}

/** The runs API when this process may read it (its own local stack, or COASTY_API_KEY set). */
function runsClientOf(target: Target): RunsClient | undefined {
  const apiKey = process.env.COASTY_API_KEY?.trim() || target.stack?.apiKey;
  const baseUrl = process.env.COASTY_BASE_URL?.trim() || target.record?.apiBaseUrl;
  return apiKey && baseUrl ? new RunsClient({ baseUrl, apiKey }) : undefined;
}

function chooseView(json: boolean | undefined, webUiUrl: string | undefined): View {
  if (json) return new JsonView({ out: process.stdout, webUiUrl });
  if (process.stdout.isTTY) return new TtyView({ out: process.stdout, webUiUrl });
  return new PlainView({ out: process.stdout, webUiUrl });
}

export function interruptHints(target: Target, workflowId: string, rerun?: string): string[] {
  const hints: string[] = [];
  if (target.mode === 'embedded') {
    hints.push(
      `Stopped watching. ${workflowId} is saved in ${target.stack!.dbFilename}; ` +
        'it waits while no local stack runs and goes on when one runs again.',
    );
  } else {
    hints.push(`Stopped watching. ${workflowId} goes on.`);
  }
  hints.push(`Watch it again: npx coasty-temporal watch ${workflowId}`);
  if (rerun) hints.push(`Or run the same command again (${rerun}): it attaches to the running process.`);
  return hints;
}
