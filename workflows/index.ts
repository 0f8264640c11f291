export { agentRun } from './agent-run';
export { runChain } from './run-chain';
export { runBatch } from './run-batch';
export { batchItem } from './batch-item';
