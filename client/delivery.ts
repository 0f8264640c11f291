// `run --delivery` / `start --delivery`: one delivery for every run of a process, over its file.
import type { Delivery, ProcessSpec } from '../workflows/process-types';

export const DELIVERIES: readonly Delivery[] = ['stream', 'webhook'];

/** The spec with every agent step's delivery set (stream is the default, so it is left out). */
export function withDelivery(spec: ProcessSpec, delivery: Delivery | undefined): ProcessSpec {
  if (delivery === undefined) return spec;
  const set = <T extends { delivery?: Delivery }>(settings: T): T => {
    const { delivery: _old, ...rest } = settings;
    return (delivery === 'webhook' ? { ...rest, delivery } : rest) as T;
  };
  if (spec.kind === 'batch') return { ...spec, stepDefaults: set(spec.stepDefaults) };
  return {
    ...spec,
    defaults: set(spec.defaults),
    steps: spec.steps.map((step) => (step.type === 'agent' ? set(step) : step)),
  };
}
