import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConflictError } from '../api/errors';
import { RunsClient } from '../api/runs-client';
import { substituteSecrets } from '../workflows/templates';
import { toActivityFailure } from './failures';
import {
  redactSummary,
  SECRET_PREFIX,
  secretRedactor,
  sourceSecrets,
  workerSecrets,
  type SecretSource,
} from './secrets';
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
  /** Instead of `env`: a function from NAME to the value. */
  secrets?: SecretSource;
}

export function createActivities({ client: plainClient, env = process.env, secrets }: ActivityDependencies) {
  const fromSource = secrets && sourceSecrets(secrets);
  const secretValue = fromSource?.value ?? ((name: string) => env[`${SECRET_PREFIX}${name}`]);
  /** For summaries: what the agent reports, with the worker's secrets masked. */
  const redactText = fromSource?.redact ?? secretRedactor(env);
  // Tasks carry the secrets to the API, and a server may echo them in an error: its messages are
  // redacted on the raw text, before they are cut (api/redact.ts). Secrets from a SecretSource are
  // known only once handed out, so they are masked after (a cut one may show in part).
  const client = plainClient.withSecrets(fromSource ? [] : workerSecrets(env));
  const redact = fromSource
    ? (text: string) => fromSource.redact(client.redact(text))
    : (text: string) => client.redact(text);

  return {
    /** Creates the run exactly once: the idempotency key is the same on every retry and replay. */
    async createRun({ idempotencyKey, request }: CreateRunInput): Promise<CreatedRun> {
      let task: string;
      try {
        task = substituteSecrets(request.task, secretValue);
      } catch (error) {
        // A configuration mistake: retrying cannot help until the worker is restarted with the variable.
        throw ApplicationFailure.nonRetryable((error as Error).message, 'MissingSecret');
      }
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
      return followRun(client, input, redactText);
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
        throw toActivityFailure(error, redact);
      }
    },

    /** Idempotent: cancelling a finished run returns it unchanged. */
    async cancelRun({ runId }: { runId: string }): Promise<void> {
      try {
        await client.cancelRun(runId, { idempotencyKey: `cancel/${runId}` });
      } catch (error) {
        throw toActivityFailure(error, redact);
      }
    },

    async getRunSummary({ runId }: { runId: string }): Promise<RunSummary> {
      try {
        return redactSummary(summaryFromRun(await client.getRun(runId), emptySummary(runId)), redactText);
      } catch (error) {
        throw toActivityFailure(error, redact);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
