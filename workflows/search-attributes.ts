// Whether this worker's workflows write the CoastyStatus search attribute. A namespace without it
// fails every workflow task that upserts it, so `new CoastyPlugin({ searchAttributes: false })` adds
// the interceptor module `search-attributes-off` to the workflow bundle, which switches them off here.
// The setting is the worker's (every workflow on it sees the same), like its code: change it only
// with workflows drained, or replays see commands that differ from their history.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes as upsertToServer } from '@temporalio/workflow';

let enabled = true;

export function disableSearchAttributes(): void {
  enabled = false;
}

export function searchAttributesEnabled(): boolean {
  return enabled;
}

/** `upsertSearchAttributes` of `@temporalio/workflow`, a no-op when search attributes are off. */
export function upsertSearchAttributes(pairs: SearchAttributeUpdatePair[]): void {
  if (enabled) upsertToServer(pairs);
}
