import { Context } from '@temporalio/activity';
import { ConflictError } from '../api/errors';
import { RunsClient } from '../api/runs-client';
import { substituteSecrets } from '../workflows/templates';
import { toActivityFailure } from './failures';
import { followRun } from './stream-run';
import { emptySummary, summaryFromRun } from './summary';
import type {
  CreatedRun,
  CreateRunInput,
  ResumeRunInput,
  RunSummary,
  StreamCursor,
  StreamRunInput,
} from './types';

export interface ActivityDependencies {
  client: RunsClient;
  /** Where `{{secret.NAME}}` values come from: `COASTY_SECRET_NAME` (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export function createActivities({ client, env = process.env }: ActivityDependencies) {
  const secretValue = (name: string) => env[`COASTY_SECRET_${name}`];

  return {
    /** Creates the run exactly once: the idempotency key is the same on every retry and replay. */
    async createRun({ idempotencyKey, request }: CreateRunInput): Promise<CreatedRun> {
      const usedSecrets: string[] = [];
      const task = substituteSecrets(request.task, (name) => {
        const value = secretValue(name);
        if (value) usedSecrets.push(value);
        return value;
      });
      const redact = (text: string) =>
        usedSecrets.reduce((out, secret) => out.split(secret).join('[secret]'), text);
      try {
        const run = await client.createRun(
          { ...request, task },
          { idempotencyKey, signal: Context.current().cancellationSignal },
        );
        // Never return the run object: its `task` holds the secrets' values.
        return { runId: run.id, status: run.status };
      } catch (error) {
        throw toActivityFailure(error, redact);
      }
    },

    streamRun(input: StreamRunInput): Promise<StreamCursor> {
      return followRun(client, input);
    },

    /** Idempotent: a retry after a lost answer finds the run already resumed and succeeds. */
    async resumeRun({ runId, action, message, idempotencyKey }: ResumeRunInput): Promise<void> {
      try {
        await client.resumeRun(runId, { action, message }, { idempotencyKey });
      } catch (error) {
        if (error instanceof ConflictError) {
          const run = await client.getRun(runId).catch(() => undefined);
          if (run && run.status !== 'awaiting_human') return;
        }
        throw toActivityFailure(error);
      }
    },

    /** Idempotent: cancelling a finished run returns it unchanged. */
    async cancelRun({ runId }: { runId: string }): Promise<void> {
      try {
        await client.cancelRun(runId, { idempotencyKey: `cancel/${runId}` });
      } catch (error) {
        throw toActivityFailure(error);
      }
    },

    async getRunSummary({ runId }: { runId: string }): Promise<RunSummary> {
      try {
        return summaryFromRun(await client.getRun(runId), emptySummary(runId));
      } catch (error) {
        throw toActivityFailure(error);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
