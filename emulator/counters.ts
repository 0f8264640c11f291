// Counters the admin API exposes, so tests can check what happened on the server side.

export interface Counters {
  requests: number;
  runs_created: number;
  idempotent_replays: number;
  idempotency_conflicts: number;
  steps_billed: number;
  cost_usd_billed: number;
  events_emitted: number;
  open_streams: number;
  max_open_streams: number;
  stream_connections: number;
  reconnects_with_last_event_id: number;
  stream_writes: number;
  stream_backpressure_waits: number;
  streams_dropped: number;
  events_resent: number;
  keepalives_sent: number;
  webhook_attempts: number;
  webhook_deliveries: number;
  webhook_failures: number;
  rate_limited: number;
  /** API requests refused with 401 (no key, or a key not accepted, e.g. after a rotation). */
  unauthorized: number;
  faults_injected: number;
  responses_lost: number;
  machine_max_concurrency: Record<string, number>;
}

export interface CounterState extends Omit<Counters, 'cost_usd_billed'> {
  cents_billed: number;
}

export function createCounters(machines: readonly string[]): CounterState {
  return {
    requests: 0,
    runs_created: 0,
    idempotent_replays: 0,
    idempotency_conflicts: 0,
    steps_billed: 0,
    cents_billed: 0,
    events_emitted: 0,
    open_streams: 0,
    max_open_streams: 0,
    stream_connections: 0,
    reconnects_with_last_event_id: 0,
    stream_writes: 0,
    stream_backpressure_waits: 0,
    streams_dropped: 0,
    events_resent: 0,
    keepalives_sent: 0,
    webhook_attempts: 0,
    webhook_deliveries: 0,
    webhook_failures: 0,
    rate_limited: 0,
    unauthorized: 0,
    faults_injected: 0,
    responses_lost: 0,
    machine_max_concurrency: Object.fromEntries(machines.map((id) => [id, 0])),
  };
}

export function resetCounters(state: CounterState, machines: readonly string[]): void {
  const openStreams = state.open_streams;
  Object.assign(state, createCounters(machines), {
    open_streams: openStreams,
    max_open_streams: openStreams,
  });
}

export function snapshotCounters(state: CounterState): Counters {
  const { cents_billed, ...rest } = state;
  return {
    ...rest,
    cost_usd_billed: centsToUsd(cents_billed),
    machine_max_concurrency: { ...state.machine_max_concurrency },
  };
}

export function centsToUsd(cents: number): number {
  return Math.round(cents) / 100;
}
