import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConflictError } from '../api/errors';
import { RunsClient } from '../api/runs-client';
import type { Run } from '../api/types';
import {
  webhookUrlFor,
  WEBHOOK_SECRET_VARIABLE,
  WEBHOOK_URL_VARIABLE,
  type WebhookSettings,
} from '../api/webhooks';
import { secretEnvName, substituteSecrets } from '../core/secrets';
import { toActivityFailure } from './failures';
import { redactSummary, secretRedactor, sourceSecrets, workerSecrets, type SecretSource } from './secrets';
import { followRun } from './stream-run';
import { applyEventTo, emptySummary, summaryFromRun } from './summary';
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
  /** Where runs with `delivery: webhook` send their events (COASTY_WEBHOOK_URL, COASTY_WEBHOOK_SECRET). */
  webhook?: WebhookSettings;
}

export function createActivities({
  client: plainClient,
  env = process.env,
  secrets,
  webhook,
}: ActivityDependencies) {
  const fromSource = secrets && sourceSecrets(secrets);
  const secretValue = fromSource?.value ?? ((name: string) => env[secretEnvName(name)]);
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
    async createRun({ idempotencyKey, request, webhook: byWebhook }: CreateRunInput): Promise<CreatedRun> {
      const webhookUrl = byWebhook ? webhookUrlOf(webhook) : undefined;
      let task: string;
      try {
        task = substituteSecrets(request.task, secretValue);
      } catch (error) {
        // A configuration mistake: retrying cannot help until the worker is restarted with the variable.
        throw ApplicationFailure.nonRetryable((error as Error).message, 'MissingSecret');
      }
      try {
        const run = await client.createRun(
          { ...request, task, ...(webhookUrl ? { webhook_url: webhookUrl } : {}) },
          { idempotencyKey, signal: Context.current().cancellationSignal },
        );
        // Never return the run object: its `task` holds the secrets' values.
        return { runId: run.id, status: run.status };
      } catch (error) {
        if (error instanceof ConflictError) throw createConflict(error, request.machine_id, redact);
        throw toActivityFailure(error, redact);
      }
    },

    streamRun(input: StreamRunInput): Promise<StreamCursor> {
      return followRun(client, input, redactText);
    },

    /**
     * Idempotent: a retry after a lost answer finds the run already resumed and succeeds. Given the
     * pause's `since`, a retry never answers a later pause (without relying on Idempotency-Key).
     */
    async resumeRun({ runId, action, message, idempotencyKey, pauseSince }: ResumeRunInput): Promise<void> {
      const pauseIsOver = async () => !isAtPause(await client.getRun(runId), pauseSince);
      try {
        if (Context.current().info.attempt > 1 && pauseSince !== undefined && (await pauseIsOver())) return;
        await client.resumeRun(runId, { action, message }, { idempotencyKey });
      } catch (error) {
        if (error instanceof ConflictError) {
          const over = await pauseIsOver().catch(() => false);
          if (over) return;
        }
        throw toActivityFailure(error, redact, runId);
      }
    },

    /** Idempotent: cancelling a finished run returns it unchanged. */
    async cancelRun({ runId }: { runId: string }): Promise<void> {
      try {
        await client.cancelRun(runId, { idempotencyKey: `cancel/${runId}` });
      } catch (error) {
        throw toActivityFailure(error, redact, runId);
      }
    },

    /** The run object as a summary; at a pause, the pause as the run object tells it (webhook delivery reads it so). */
    async getRunSummary({ runId }: { runId: string }): Promise<RunSummary> {
      try {
        const run = await client.getRun(runId);
        const summary = summaryFromRun(run, emptySummary(runId));
        return redactSummary({ ...summary, awaiting: await pauseOfRun(client, run) }, redactText);
      } catch (error) {
        throw toActivityFailure(error, redact, runId);
      }
    },
  };
}

/**
 * Is the run waiting at the pause that began at `since` (any pause, when unknown)? Times are
 * compared as instants, so the event's `requested_at` and the run's `since` may differ in format.
 */
export function isAtPause(run: Run, since: string | undefined): boolean {
  if (run.status !== 'awaiting_human') return false;
  const current = run.awaiting_human?.since;
  if (since === undefined || current === undefined) return true;
  const [a, b] = [Date.parse(since), Date.parse(current)];
  return Number.isNaN(a) || Number.isNaN(b) ? since === current : a === b;
}

export type Activities = ReturnType<typeof createActivities>;

/** Reading a run's events for the pause it waits at gives up after this; the run object then tells it. */
const PAUSE_EVENT_TIMEOUT_MS = 10_000;

/**
 * The pause a run waits at, as stream delivery knows it: its `awaiting_human` event (the event id
 * names it; the proposed action is only there), found by reading the run's events up to it. Without
 * that event in time, the run object's reason and start, and an id from the start.
 */
async function pauseOfRun(client: RunsClient, run: Run): Promise<RunSummary['awaiting']> {
  const pause = run.status === 'awaiting_human' ? run.awaiting_human : null;
  if (!pause) return undefined;
  const fromRun = { requestId: `pause-${pause.since}`, reason: pause.reason, since: pause.since };
  const signal = AbortSignal.any([
    Context.current().cancellationSignal,
    AbortSignal.timeout(PAUSE_EVENT_TIMEOUT_MS),
  ]);
  try {
    for await (const event of client.streamEvents(run.id, { signal })) {
      if (event.type !== 'awaiting_human') continue;
      const found = applyEventTo(emptySummary(run.id), event).awaiting!;
      if (isAtPause(run, found.since)) return found;
    }
  } catch {
    // The run object's account of the pause will do.
  }
  return fromRun;
}

/** The webhook_url for this activity's workflow; a worker without webhook settings cannot create such a run. */
function webhookUrlOf(settings: WebhookSettings | undefined): string {
  if (!settings) {
    throw ApplicationFailure.nonRetryable(
      `this process asks for delivery: webhook, but the worker has no receiver: start it with ` +
        `${WEBHOOK_URL_VARIABLE} (the receiver's public URL, e.g. https://inbox.example.com/webhooks/runs) and ` +
        `${WEBHOOK_SECRET_VARIABLE} (the runs API's webhook secret), or use delivery: stream`,
      'WebhookNotConfigured',
    );
  }
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable('delivery: webhook needs a workflow to route to');
  return webhookUrlFor(settings, workflowId);
}

/**
 * The key is this execution's own, so a 409 on create means an earlier attempt sent it with another
 * body (a secret that changed between attempts): that attempt's run exists, and nobody follows it.
 */
function createConflict(error: ConflictError, machineId: string, redact: (text: string) => string) {
  return ApplicationFailure.create({
    type: error.errorType,
    nonRetryable: true,
    message: redact(
      `${error.message} An earlier attempt of this workflow sent the same Idempotency-Key with another body ` +
        `(did a COASTY_SECRET_ value change between attempts?), so a run it created may still be going: ` +
        `find it with GET /v1/runs?machine_id=${machineId} and cancel it.`,
    ),
  });
}
