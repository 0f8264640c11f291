// The workflows of the benchmarks' worker: the project's own, plus the batch benchmark's baseline and
// the fleet benchmark's (what Temporal users write first: a polling activity, an external SSE listener).
export * from '../../workflows/index';
export { noopBatch, noopChild } from './noop-batch';
export { listenedRun, pollingRun } from './fleet-baselines';
