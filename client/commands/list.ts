// `list`: processes from Temporal's visibility store, filtered on the CoastyStatus search attribute.
// Visibility is eventually consistent: a process started a moment ago may show a second later.
import { Command, InvalidArgumentError } from 'commander';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { RUN_STATUSES } from '../../api/types';
import { coastyStatusKey } from '../../workflows/messages';
import { EXIT } from '../errors';
import { safeText } from '../safe-text';
import { WORKFLOW_TYPES } from '../snapshot';
import { action, addCommonOptions, printJson, withTarget, type CommonOptions } from './common';
import { positiveInteger } from './numbers';

/** Values the workflows write to CoastyStatus. */
export const COASTY_STATUSES = [
  'creating',
  ...RUN_STATUSES,
  'awaiting_approval',
  'awaiting_budget',
  'paused',
  'completed',
] as const;
export const AWAITING_STATUSES = ['awaiting_human', 'awaiting_approval', 'awaiting_budget'] as const;

export interface ListFlags extends CommonOptions {
  awaiting?: boolean;
  status?: string;
  all?: boolean;
  limit: number;
}

export interface ListedProcess {
  workflowId: string;
  type: string;
  kind: string;
  /** Temporal's: RUNNING, COMPLETED, FAILED, ... */
  execution: string;
  coastyStatus?: string;
  taskQueue: string;
  startedAt: string;
  closedAt?: string;
  parentWorkflowId?: string;
}

export function listQuery(flags: Pick<ListFlags, 'awaiting' | 'status' | 'all'>, taskQueue?: string): string {
  const quote = (value: string) => `'${value.replace(/'/g, "\\'")}'`;
  const parts = [`WorkflowType IN (${Object.keys(WORKFLOW_TYPES).map(quote).join(', ')})`];
  if (flags.awaiting) {
    parts.push(`CoastyStatus IN (${AWAITING_STATUSES.map(quote).join(', ')})`, `ExecutionStatus = 'Running'`);
  } else if (!flags.all) {
    parts.push('ParentWorkflowId IS NULL');
  }
  if (flags.status) parts.push(`CoastyStatus = ${quote(flags.status)}`);
  if (taskQueue) parts.push(`TaskQueue = ${quote(taskQueue)}`);
  return parts.join(' AND ');
}

export async function listProcesses(client: Client, query: string, limit: number): Promise<ListedProcess[]> {
  const out: ListedProcess[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    out.push(toListed(info));
    if (out.length >= limit) break;
  }
  return out;
}

function toListed(info: WorkflowExecutionInfo): ListedProcess {
  const coastyStatus = info.typedSearchAttributes.get(coastyStatusKey);
  return {
    workflowId: info.workflowId,
    type: info.type,
    kind: WORKFLOW_TYPES[info.type] ?? 'unknown',
    execution: info.status.name,
    ...(coastyStatus ? { coastyStatus } : {}),
    taskQueue: info.taskQueue,
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
    ...(info.parentExecution?.workflowId ? { parentWorkflowId: info.parentExecution.workflowId } : {}),
  };
}

function coastyStatus(value: string): string {
  if (!(COASTY_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${COASTY_STATUSES.join(', ')}`);
  }
  return value;
}

export function listCommand(): Command {
  const command = new Command('list')
    .description('list processes (newest first); --awaiting: the ones a person must answer')
    .option('--awaiting', 'only runs and gates that wait for a person or a budget (children included)')
    .option('--status <status>', `only this CoastyStatus (${COASTY_STATUSES.join(', ')})`, coastyStatus)
    .option('--all', "include the chains' and batches' own runs (child workflows)")
    .option('--limit <n>', 'at most this many', positiveInteger, 50);
  addCommonOptions(command);
  return command.action(
    action(async (flags: ListFlags) =>
      withTarget(flags, async (target) => {
        const explicitQueue = flags.taskQueue ?? (process.env.COASTY_TASK_QUEUE || undefined);
        const processes = await listProcesses(target.client, listQuery(flags, explicitQueue), flags.limit);
        if (flags.json) printJson(processes);
        else process.stdout.write(table(processes));
        return EXIT.ok;
      }),
    ),
  );
}

function table(rows: ListedProcess[]): string {
  if (rows.length === 0) return 'No processes match.\n';
  const header = ['WORKFLOW ID', 'KIND', 'STATUS', 'TEMPORAL', 'STARTED'];
  const cells = rows.map((row) =>
    [
      row.workflowId,
      row.kind,
      row.coastyStatus ?? '-',
      row.execution.toLowerCase(),
      row.startedAt.replace('T', ' ').slice(0, 19),
    ].map((cell) => safeText(cell)),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const format = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[format(header), ...cells.map(format)].join('\n')}\n`;
}
