// The app's workflow: coasty-temporal's agentRun as a child, checked by the app's own activity, two
// agents on two machines at once, and a person's approval through coasty-temporal's own messages.
import {
  condition,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  agentRun,
  humanInputSignal,
  type AgentRunResult,
  type HumanDecision,
} from 'coasty-temporal/workflow';
import type * as activities from './activities.js';

// The worker registers every workflow this module exports: ours, and coasty-temporal's that we start.
export { agentRun } from 'coasty-temporal/workflow';

const { checkInvoice, createRun } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export const waitingForApprovalQuery = defineQuery<boolean>('waitingForApproval');

export interface PayInvoiceInput {
  invoiceId: string;
  /** Two machines: the two look-ups run on them at once. */
  machines: [string, string];
  approvalTimeout?: string;
}

export interface PayInvoiceResult {
  checked: boolean;
  lookups: AgentRunResult[];
  decision?: HumanDecision;
  payment?: AgentRunResult;
  ticket?: string;
}

export async function payInvoice(input: PayInvoiceInput): Promise<PayInvoiceResult> {
  let decision: HumanDecision | undefined;
  let waiting = false;
  setHandler(humanInputSignal, (answer) => {
    decision ??= answer;
  });
  setHandler(waitingForApprovalQuery, () => waiting);

  const { workflowId } = workflowInfo();
  const agent = (step: string, machine: string, task: string) =>
    executeChild(agentRun, {
      workflowId: `${workflowId}/${step}`,
      staticSummary: `${step}: ${task}`,
      args: [{ request: { machine_id: machine, task, max_steps: 20 } }],
    });
  const [first, second] = input.machines;

  const download = await agent('download', first, `Download invoice ${input.invoiceId} [steps=3]`);
  const checked = await checkInvoice({ invoiceId: input.invoiceId, agentResult: download.result });
  if (!checked) return { checked, lookups: [download] };

  const lookups = await Promise.all([
    agent('erp', first, `Find invoice ${input.invoiceId} in the ERP [steps=2]`),
    agent('bank', second, `Find the payee of invoice ${input.invoiceId} at the bank [steps=2]`),
  ]);

  waiting = true;
  const decided = await condition(() => decision !== undefined, input.approvalTimeout ?? '1 day');
  waiting = false;
  if (!decided || decision?.action !== 'approve') return { checked, lookups, decision };

  const payment = await agent('pay', first, `Pay invoice ${input.invoiceId} [steps=2]`);
  const ticket = await createRun(`paid ${input.invoiceId}`);
  return { checked, lookups, decision, payment, ticket };
}
