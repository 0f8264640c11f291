// Starting N agentRun workflows at once and settling each into completed, typed error or lost.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { NON_RETRYABLE_ERROR_TYPES } from '../../../api/errors';
import { agentRun, type AgentRunInput, type AgentRunResult } from '../../../workflows/agent-run';
import { SECRET_NAME, type ScenarioStack } from './context';

/** Failure types a workflow may end with that name their cause: the API's and agentRun's own. */
export const TYPED_ERRORS: ReadonlySet<string> = new Set([
  ...NON_RETRYABLE_ERROR_TYPES,
  'ApprovalTimedOut',
  'MissingSecret',
]);

export interface RunShape {
  steps: number;
  paceMs: number;
  /** Extra directives for the emulator's agent, e.g. "[fail@3]". */
  extra?: string;
}

export interface StartedRun {
  workflowId: string;
  handle: WorkflowHandle<typeof agentRun>;
}

export type Outcome =
  | { kind: 'completed'; workflowId: string; result: AgentRunResult }
  | { kind: 'typed'; workflowId: string; type: string; message: string }
  | { kind: 'lost'; workflowId: string; reason: string };

/**
 * The task names its workflow (so the emulator's runs map back to workflows) and carries the secret
 * first: the emulator's agent echoes the start of the task in its result, so every completed run
 * also tests that the secret is redacted from what the worker reports.
 */
export function chaosTask(workflowId: string, shape: RunShape): string {
  return (
    `Log in with {{secret.${SECRET_NAME}}} (chaos ${workflowId}) ` +
    `[steps=${shape.steps}] [pace=${shape.paceMs}]${shape.extra ? ` ${shape.extra}` : ''}`
  );
}

export function workflowIdOfTask(task: string): string | undefined {
  return /\(chaos (\S+)\)/.exec(task)?.[1];
}

export async function startRuns(
  stack: ScenarioStack,
  options: {
    n: number;
    prefix: string;
    shape: RunShape;
    input?: Partial<AgentRunInput>;
    /** Machine index offset, when several batches run on one emulator. */
    firstMachine?: number;
  },
): Promise<StartedRun[]> {
  const machines = stack.emulator.machines;
  const ids = Array.from({ length: options.n }, (_, i) => `${stack.taskQueue}-${options.prefix}-${i + 1}`);
  return Promise.all(
    ids.map(async (workflowId, i) => {
      const handle = await stack.client.workflow.start(agentRun, {
        taskQueue: stack.taskQueue,
        workflowId,
        args: [
          {
            ...options.input,
            request: {
              machine_id: machines[((options.firstMachine ?? 0) + i) % machines.length]!,
              task: chaosTask(workflowId, options.shape),
              max_steps: options.shape.steps + 10,
            },
          },
        ],
      });
      return { workflowId, handle };
    }),
  );
}

/** The typed failure at the bottom of a workflow failure's cause chain, if it is one of ours. */
export function typedFailure(error: WorkflowFailedError): { type: string; message: string } | undefined {
  let cause: unknown = error.cause;
  let found: ApplicationFailure | undefined;
  for (let depth = 0; cause && depth < 10; depth++) {
    if (cause instanceof ApplicationFailure && cause.type) found = cause;
    cause = (cause as Error).cause;
  }
  return found && TYPED_ERRORS.has(found.type!) ? { type: found.type!, message: found.message } : undefined;
}

/** Waits for one workflow's end, riding out server outages, never past `deadline`. */
export async function settle(stack: ScenarioStack, run: StartedRun, deadline: number): Promise<Outcome> {
  const { workflowId } = run;
  let lastError: unknown;
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    try {
      const result = await stack.client.withDeadline(Math.min(deadline, Date.now() + 30_000), () =>
        run.handle.result(),
      );
      return { kind: 'completed', workflowId, result };
    } catch (error) {
      if (error instanceof WorkflowFailedError) {
        const typed = typedFailure(error);
        if (typed) return { kind: 'typed', workflowId, ...typed };
        return {
          kind: 'lost',
          workflowId,
          reason: `failed without a typed error: ${error.message}: ${String(error.cause)}`,
        };
      }
      if (error instanceof WorkflowNotFoundError) {
        return { kind: 'lost', workflowId, reason: `the workflow is gone: ${error.message}` };
      }
      // Anything else is the server being away (killed, restarting) or a long poll's deadline: ask again.
      lastError = error;
      await sleep(500);
    }
  }
  return {
    kind: 'lost',
    workflowId,
    reason: `not settled by the deadline (last error: ${(lastError as Error)?.message ?? 'none'})`,
  };
}

/** Settles every run; runs still open at the deadline are terminated (and reported lost). */
export async function settleAll(
  stack: ScenarioStack,
  runs: StartedRun[],
  timeoutMs: number,
): Promise<Outcome[]> {
  const deadline = Date.now() + timeoutMs;
  const outcomes = await Promise.all(runs.map((run) => settle(stack, run, deadline)));
  await Promise.all(
    outcomes.map(async (outcome, i) => {
      if (outcome.kind !== 'lost') return;
      await runs[i]!.handle.terminate('chaos: not settled in time').catch(() => undefined);
    }),
  );
  return outcomes;
}
