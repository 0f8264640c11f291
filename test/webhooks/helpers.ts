// A test stack whose worker creates runs with webhook delivery: the real emulator posts each event,
// signed, to a real receiver (serve's, or the standalone one), which signals the real workflows.
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startServe, type RunningServe } from '../../serve';
import { startWebhookServer, type RunningWebhookServer } from '../../serve/webhooks/server';
import type { StartEmulatorOptions } from '../../emulator';
import { agentRun, type AgentRunInput } from '../../workflows/agent-run';
import { startStack, type TestStack } from '../helpers/stack';

export interface WebhookStack {
  stack: TestStack;
  receiver: RunningWebhookServer;
  /** Starts agentRun with `delivery: webhook` on the stack's queue. */
  startRun(
    id: string,
    input: Partial<AgentRunInput> & { task: string; machine?: string },
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof agentRun>>;
  stop(): Promise<void>;
}

/** Emulator retries fast, so a test sees a refused delivery tried again within a second. */
export const FAST_WEBHOOKS = { backoffBaseMs: 50, backoffMaxMs: 400, maxAttempts: 5, timeoutMs: 5000 };

export async function startWebhookStack(
  label: string,
  emulator: StartEmulatorOptions['config'] = {},
): Promise<WebhookStack> {
  const stack = await startStack({
    label,
    worker: false,
    emulator: { config: { machines: 16, agent: { paceMs: 5 }, webhooks: FAST_WEBHOOKS, ...emulator } },
  });
  const receiver = await startWebhookServer({
    client: stack.env.client,
    secret: stack.emulator.webhookSecret,
    port: 0,
  }).catch(async (error) => {
    await stack.stop();
    throw error;
  });
  await stack.startWorker({ env: webhookWorkerEnv(receiver.url, stack.emulator.webhookSecret) });
  let machines = 0;
  return {
    stack,
    receiver,
    startRun: (id, { task, machine, ...rest }) =>
      stack.env.client.workflow.start(agentRun, {
        taskQueue: stack.taskQueue,
        workflowId: id,
        args: [
          {
            request: { machine_id: machine ?? `m-${(machines++ % 16) + 1}`, task, max_steps: 50 },
            delivery: 'webhook',
            ...rest,
          },
        ],
      }),
    async stop() {
      await stack.stop();
      await receiver.stop();
    },
  };
}

export function webhookWorkerEnv(url: string, secret: string): NodeJS.ProcessEnv {
  return { COASTY_WEBHOOK_URL: url, COASTY_WEBHOOK_SECRET: secret };
}

/** serve with its receiver on a stack whose worker points runs at it. */
export async function startServeWithWebhooks(
  label: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{
  stack: TestStack;
  serve: RunningServe;
  stop(): Promise<void>;
}> {
  const stack = await startStack({
    label,
    worker: false,
    emulator: { config: { machines: 16, agent: { paceMs: 5 }, webhooks: FAST_WEBHOOKS } },
  });
  const serve = await startServe({
    client: stack.env.client,
    port: 0,
    env,
    taskQueue: stack.taskQueue,
    pollMs: 200,
    webhookSecret: stack.emulator.webhookSecret,
    log: () => undefined,
  });
  await stack.startWorker({ env: webhookWorkerEnv(serve.webhooks!.url, stack.emulator.webhookSecret) });
  return {
    stack,
    serve,
    async stop() {
      await stack.stop();
      await serve.stop();
    },
  };
}
