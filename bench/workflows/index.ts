// The workflows of the benchmarks' worker: the project's own, plus the batch benchmark's baseline.
export * from '../../workflows/index';
export { noopBatch, noopChild } from './noop-batch';
