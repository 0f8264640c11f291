// The app's own activities. One of them is called `createRun`, like an activity of coasty-temporal:
// CoastyPlugin registers its own as `coasty.createRun`, so this one keeps doing what it does here.

export interface InvoiceCheck {
  invoiceId: string;
  agentResult: string | null;
}

/** Checks what the agent reported before anything is paid (agent text is untrusted input). */
export async function checkInvoice({ invoiceId, agentResult }: InvoiceCheck): Promise<boolean> {
  return typeof agentResult === 'string' && agentResult.trim().length > 0 && invoiceId.length > 0;
}

/** The app's ticket system: "create a run" of its own, nothing to do with agent runs. */
export async function createRun(what: string): Promise<string> {
  return `ticket: ${what}`;
}
