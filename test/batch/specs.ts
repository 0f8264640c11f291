// A BatchSpec like the one a process file produces (see client/process-file/batch.ts).
import type { BatchSpec } from '../../workflows/process-types';

export function batch(count: number, over: Partial<BatchSpec> = {}): BatchSpec {
  return {
    kind: 'batch',
    name: 'test-batch',
    inputs: {},
    taskTemplate: 'Verify invoice {{item.id}} [steps=1]',
    items: Array.from({ length: count }, (_, index) => {
      const id = `inv-${String(index + 1).padStart(3, '0')}`;
      return { key: id, fields: { id, amount: (index + 1) * 10 } };
    }),
    keyField: 'id',
    concurrency: 4,
    machines: ['m-1', 'm-2', 'm-3', 'm-4'],
    stepDefaults: {
      maxSteps: 5,
      onAwaitingHuman: 'pause',
      approvalTimeoutSeconds: 3600,
      approvalTimeoutPolicy: 'reject',
      onFailure: { policy: 'continue', maxRetries: 0 },
    },
    source: 'inline',
    ...over,
  };
}
