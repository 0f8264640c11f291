// The text of a snapshot, shared by the terminal frame and the plain line view.
import { truncate as cut } from '../../core/text';
import type { LineView, Snapshot } from '../snapshot';
import { dollars } from '../../core/money';
import { bar, costText, describeAction, elapsed, stepsText, truncate } from './format';

export type Tone = 'ok' | 'bad' | 'active' | 'wait' | 'dim';

export function toneOf(state: string): Tone {
  if (['succeeded', 'approved', 'completed'].includes(state)) return 'ok';
  if (['failed', 'rejected', 'timed_out', 'cancelled', 'terminated'].includes(state)) return 'bad';
  if (state.startsWith('awaiting') || state === 'paused') return 'wait';
  if (['pending', 'skipped'].includes(state)) return 'dim';
  return 'active';
}

export const SYMBOL: Record<Tone, string> = { ok: '✓', bad: '✗', active: '▸', wait: '?', dim: '·' };

/** The state in words a person reads. */
export function stateText(state: string): string {
  switch (state) {
    case 'awaiting_human':
      return 'waiting for a person';
    case 'awaiting_approval':
      return 'waiting for approval';
    case 'awaiting_budget':
      return 'waiting for budget';
    case 'timed_out':
      return 'timed out';
    default:
      return state;
  }
}

export function headline(snapshot: Snapshot, now: number): string {
  const parts = [snapshot.name, kindText(snapshot), stateText(snapshot.status)];
  if (snapshot.batch) {
    const b = snapshot.batch;
    parts.push(
      `${b.done}/${b.total} done · ${b.failed} failed · ${b.running} running · ${b.pending} pending${b.paused ? ' · paused' : ''}`,
    );
  }
  parts.push(costText(snapshot), elapsed(snapshot.startedAt, snapshot.closedAt, now));
  return parts.filter(Boolean).join('  ');
}

function kindText(snapshot: Snapshot): string {
  if (snapshot.kind === 'agentRun') return 'run';
  return snapshot.kind === 'unknown' ? snapshot.workflowType : snapshot.kind;
}

/** One step/item line without its symbol: id, state, bar, steps, cost, elapsed, action or question. */
export function lineText(line: LineView, idWidth: number, now: number, width: number): string {
  const id = truncate(line.id, idWidth).padEnd(idWidth);
  const machine = line.machineId ? `${line.machineId.padEnd(5)} ` : '';
  if (line.type === 'approval') {
    // The question itself is shown with the pause (once), not on the gate's line.
    return cut(`${id}  ${machine}${stateText(line.state)}`, width);
  }
  if (line.steps === 0 && (line.state === 'pending' || line.state === 'creating' || !line.maxSteps)) {
    return cut(`${id}  ${machine}${stateText(line.state)}`, width);
  }
  const retry = line.attempts && line.attempts > 1 ? ` (attempt ${line.attempts})` : '';
  // The agent's last action is what it is doing; once the line has ended it would read as still going
  // (and a view that prints changed lines would print the line again when a later read lacks it).
  const ended = ['ok', 'bad'].includes(toneOf(line.state));
  const action = ended ? '' : describeAction(line.action);
  const detail = line.error?.message ? truncate(`${line.error.type}: ${line.error.message}`, 80) : action;
  const text = [
    `${id}  ${machine}${stateText(line.state).padEnd(20)}`,
    bar(line.steps, line.maxSteps),
    stepsText(line).padStart(5),
    dollars(line.costUsd).padStart(6),
    elapsed(line.startedAt, line.closedAt, now).padStart(5),
    `${detail}${retry}`,
  ].join(' ');
  return cut(text.trimEnd(), width);
}

export function idWidth(lines: LineView[]): number {
  return Math.min(24, Math.max(4, ...lines.map((line) => line.id.length)));
}

export function batchBar(snapshot: Snapshot, width = 32): string {
  const b = snapshot.batch;
  if (!b || b.total === 0) return '';
  const finished = b.done + b.failed;
  return `${bar(finished, b.total, width)} ${Math.floor((finished / b.total) * 100)}%`;
}
