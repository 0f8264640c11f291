// Small text pieces of the views: money, durations, step bars, the agent's action.
import { dollars } from '../../core/money';
import type { StepAction } from '../../api/types';
import { oneLine, truncate as cut } from '../../core/text';
import type { LineView, Pause, Snapshot } from '../snapshot';

/** 0:07, 12:03, 1:02:09 */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function elapsed(startedAt: string | undefined, closedAt: string | undefined, now: number): string {
  if (!startedAt) return '';
  return duration((closedAt ? Date.parse(closedAt) : now) - Date.parse(startedAt));
}

/** [██████░░░░░░░░░░] for steps against max_steps. */
export function bar(done: number, max: number | undefined, width = 16): string {
  if (!max || max <= 0) return `[${'·'.repeat(width)}]`;
  const filled = Math.min(width, Math.round((Math.min(done, max) / max) * width));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

export function stepsText(line: LineView): string {
  return line.maxSteps ? `${line.steps}/${line.maxSteps}` : String(line.steps);
}

/** navigate https://…, click "Submit" (412, 230), type "ACME Tools", key Enter, scroll, wait 2 s */
export function describeAction(action: StepAction | undefined): string {
  if (!action) return '';
  const target = typeof action.target === 'string' ? ` "${action.target}"` : '';
  const field = typeof action.field === 'string' ? ` into ${action.field}` : '';
  const at = action.x !== undefined && action.y !== undefined ? ` (${action.x}, ${action.y})` : '';
  switch (action.type) {
    case 'navigate':
      return `navigate ${action.url ?? ''}`.trim();
    case 'click':
      return `click${target}${at}`;
    case 'type':
      return `type ${JSON.stringify(truncate(action.text ?? '', 40))}${field}`;
    case 'key':
      return `key ${action.text ?? ''}`.trim();
    case 'scroll':
      return `scroll${at}`;
    case 'wait':
      return typeof action.seconds === 'number' ? `wait ${action.seconds} s` : 'wait';
    default:
      return action.type;
  }
}

/** On one line, cut to `max` characters. */
export function truncate(text: string, max: number): string {
  return cut(oneLine(text), max);
}

export function pauseWhere(pause: Pick<Pause, 'where' | 'id'>): string {
  switch (pause.where) {
    case 'gate':
      return `approval gate ${pause.id}`;
    case 'step':
      return `step ${pause.id}`;
    case 'item':
      return `item ${pause.id}`;
    default:
      return 'the run';
  }
}

/** The commands that answer a pause from any terminal. */
export function pauseCommands(snapshot: Pick<Snapshot, 'workflowId'>, pause: Pause): string[] {
  const target = pause.where === 'item' ? pause.workflowId : snapshot.workflowId;
  return [
    `npx coasty-temporal approve ${target} --message "..."`,
    `npx coasty-temporal reject ${target} --message "..."`,
  ];
}

export function costText(snapshot: Snapshot): string {
  return snapshot.maxCostUsd !== undefined
    ? `${dollars(snapshot.costUsd)} of ${dollars(snapshot.maxCostUsd)}`
    : dollars(snapshot.costUsd);
}
