// Runs, machines and the simulated agent's life cycle. Everything here is synchronous; the HTTP
// layer validates input and the stream hub and webhook dispatcher are told about new events.
import { randomBytes } from 'node:crypto';
import {
  STEP_COST_CENTS,
  type CreateRunRequest,
  type EventType,
  type Machine,
  type OnAwaitingHuman,
  type Run,
  type RunError,
  type RunEvent,
  type RunStatus,
} from '../api/types';
import { planRun, stepAt, type AgentPlan } from './agent';
import type { Behaviour, EmulatorConfig } from './config';
import { centsToUsd, type CounterState } from './counters';
import { conflict } from './http-util';
import { hashSeed } from './prng';

export interface StoredEvent {
  id: string;
  seq: number;
  type: EventType;
  json: string;
  terminal: boolean;
}

export interface RunRecord {
  run: Run;
  cents: number;
  seed: number;
  plan: AgentPlan;
  nextStep: number;
  humanIndex: number;
  holdIndex: number;
  /** Set while the run waits at a hold (plan.holdAt) for the admin API to release it. */
  held: { step: number; since: string } | null;
  events: StoredEvent[];
  // Opaque to the engine: the stream hub's open connections for this run.
  streams: Set<unknown>;
  stepTimer: NodeJS.Timeout | null;
  stepImmediate: NodeJS.Immediate | null;
  deadlineTimer: NodeJS.Timeout | null;
  finishedAtMs: number | null;
}

export interface MachineState {
  id: string;
  current: RunRecord | null;
  queue: RunRecord[];
  active: number;
}

export interface ScriptEntry {
  match: RegExp | null;
  behaviour: Behaviour;
  remaining: number;
}

export interface EngineHooks {
  onEvent(rec: RunRecord, event: StoredEvent): void;
}

export interface ListFilter {
  status?: RunStatus;
  machineId?: string;
  limit: number;
  after?: string;
}

export interface ValidCreate extends CreateRunRequest {
  cua_version: string;
  on_awaiting_human: OnAwaitingHuman;
}

// Steps taken synchronously per tick when a run's pace is 0, so a fast run still yields to I/O.
const ZERO_PACE_BATCH = 256;
const EVENT_ID_DIGITS = 12;

export function formatEventId(seq: number): string {
  return `evt_${String(seq).padStart(EVENT_ID_DIGITS, '0')}`;
}

export class Engine {
  readonly runs = new Map<string, RunRecord>();
  private order: RunRecord[] = [];
  readonly machines = new Map<string, MachineState>();
  scripts: ScriptEntry[] = [];
  private eventSeq = 0;
  private taskOccurrences = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly config: EmulatorConfig,
    private readonly counters: CounterState,
    private readonly hooks: EngineHooks,
  ) {
    this.resetMachines();
  }

  // Returns the run as created (status queued), even when its machine starts it at once.
  create(input: ValidCreate): { rec: RunRecord; created: Run } {
    const occurrence = (this.taskOccurrences.get(input.task) ?? 0) + 1;
    this.taskOccurrences.set(input.task, occurrence);
    const seed = hashSeed(this.config.seed, input.task, occurrence);
    const plan = planRun(input.task, this.config, seed, this.takeScript(input.task));
    const now = new Date().toISOString();
    const run: Run = {
      id: `run_${randomBytes(12).toString('hex')}`,
      status: 'queued',
      machine_id: input.machine_id,
      task: input.task,
      cua_version: input.cua_version,
      max_steps: input.max_steps ?? null,
      deadline_seconds: input.deadline_seconds ?? null,
      on_awaiting_human: input.on_awaiting_human,
      webhook_url: input.webhook_url ?? null,
      created_at: now,
      started_at: null,
      finished_at: null,
      steps: 0,
      cost_usd: 0,
      result: null,
      error: null,
      awaiting_human: null,
    };
    const rec: RunRecord = {
      run,
      cents: 0,
      seed,
      plan,
      nextStep: 1,
      humanIndex: 0,
      holdIndex: 0,
      held: null,
      events: [],
      streams: new Set(),
      stepTimer: null,
      stepImmediate: null,
      deadlineTimer: null,
      finishedAtMs: null,
    };
    this.runs.set(run.id, rec);
    this.order.push(rec);
    this.counters.runs_created++;
    this.emit(rec, 'queued');
    const created = snapshot(rec);
    const machine = this.machine(input.machine_id);
    machine.queue.push(rec);
    this.startNext(machine);
    return { rec, created };
  }

  get(id: string): RunRecord | undefined {
    return this.runs.get(id);
  }

  list(filter: ListFilter): { data: Run[]; has_more: boolean } {
    let i = this.order.length - 1;
    if (filter.after !== undefined) {
      const afterRec = this.runs.get(filter.after);
      i = afterRec ? this.order.lastIndexOf(afterRec) - 1 : -1;
    }
    const data: Run[] = [];
    for (; i >= 0; i--) {
      const rec = this.order[i];
      if (!rec) continue;
      if (filter.status && rec.run.status !== filter.status) continue;
      if (filter.machineId && rec.run.machine_id !== filter.machineId) continue;
      if (data.length === filter.limit) return { data, has_more: true };
      data.push(snapshot(rec));
    }
    return { data, has_more: false };
  }

  machineList(): Machine[] {
    return [...this.machines.values()].map((m) => ({ id: m.id, status: m.current ? 'busy' : 'idle' }));
  }

  cancel(rec: RunRecord, reason: string): void {
    if (isFinished(rec)) return;
    this.finish(rec, 'cancelled', { payload: { reason } });
  }

  resume(rec: RunRecord, action: 'approve' | 'reject', message: string | undefined): void {
    if (rec.run.status !== 'awaiting_human') {
      throw conflict(
        `run ${rec.run.id} is ${rec.run.status}, not awaiting_human; only a paused run can be resumed`,
      );
    }
    if (action === 'reject') {
      this.finish(rec, 'failed', {
        error: { type: 'rejected_by_human', message: message ?? 'a person rejected the proposed action' },
      });
      return;
    }
    rec.humanIndex++;
    rec.run.status = 'running';
    rec.run.awaiting_human = null;
    this.emit(rec, 'running', { payload: { resumed_by: 'approve', message: message ?? null } });
    this.schedule(rec);
  }

  /** The runs waiting at a hold, oldest first. */
  heldRuns(): RunRecord[] {
    return this.order.filter((rec) => rec.held !== null);
  }

  // The run goes on where it stopped, at its pace: the held step (or its end) follows one pace later.
  release(rec: RunRecord): boolean {
    if (rec.held === null) return false;
    rec.held = null;
    rec.holdIndex++;
    this.schedule(rec);
    return true;
  }

  enqueueScripts(entries: ScriptEntry[]): void {
    this.scripts.push(...entries);
  }

  // Drops finished runs (and their events) older than the retention period.
  sweep(nowMs: number): number {
    const cutoff = nowMs - this.config.retentionMs;
    const before = this.order.length;
    this.order = this.order.filter((rec) => {
      if (rec.finishedAtMs === null || rec.finishedAtMs > cutoff || rec.streams.size > 0) return true;
      this.runs.delete(rec.run.id);
      return false;
    });
    return before - this.order.length;
  }

  reset(): void {
    for (const rec of this.runs.values()) clearTimers(rec);
    this.runs.clear();
    this.order = [];
    this.scripts = [];
    this.taskOccurrences.clear();
    this.resetMachines();
  }

  stop(): void {
    this.stopped = true;
    for (const rec of this.runs.values()) clearTimers(rec);
  }

  eventIndex(rec: RunRecord, id: string): number {
    const match = /^evt_(\d+)$/.exec(id);
    if (!match) return -1;
    const seq = Number(match[1]);
    let lo = 0;
    let hi = rec.events.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const ev = rec.events[mid] as StoredEvent;
      if (ev.seq === seq) return ev.id === id ? mid : -1;
      if (ev.seq < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private resetMachines(): void {
    this.machines.clear();
    for (const id of this.config.machines) this.machines.set(id, { id, current: null, queue: [], active: 0 });
  }

  private machine(id: string): MachineState {
    const machine = this.machines.get(id);
    if (!machine) throw new Error(`unknown machine ${id}`);
    return machine;
  }

  private takeScript(task: string): Behaviour | undefined {
    // A script aimed at this task (by match) goes before the general ones; each kind is FIFO.
    let index = this.scripts.findIndex((s) => s.match !== null && s.match.test(task));
    if (index < 0) index = this.scripts.findIndex((s) => s.match === null);
    const entry = this.scripts[index];
    if (!entry) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) this.scripts.splice(index, 1);
    return entry.behaviour;
  }

  private startNext(machine: MachineState): void {
    if (machine.current || this.stopped) return;
    const rec = machine.queue.shift();
    if (!rec) return;
    machine.current = rec;
    machine.active++;
    const max = this.counters.machine_max_concurrency;
    max[machine.id] = Math.max(max[machine.id] ?? 0, machine.active);
    rec.run.status = 'running';
    rec.run.started_at = new Date().toISOString();
    this.emit(rec, 'running');
    if (rec.run.deadline_seconds !== null) {
      rec.deadlineTimer = setTimeout(() => {
        rec.deadlineTimer = null;
        if (isFinished(rec)) return;
        this.finish(rec, 'timed_out', {
          error: {
            type: 'deadline_exceeded',
            message: `the run exceeded deadline_seconds (${rec.run.deadline_seconds})`,
          },
        });
      }, rec.run.deadline_seconds * 1000);
    }
    this.schedule(rec);
  }

  private schedule(rec: RunRecord): void {
    if (this.stopped) return;
    if (rec.plan.paceMs === 0) {
      rec.stepImmediate = setImmediate(() => {
        rec.stepImmediate = null;
        this.advance(rec, ZERO_PACE_BATCH);
      });
    } else {
      rec.stepTimer = setTimeout(() => {
        rec.stepTimer = null;
        this.advance(rec, 1);
      }, rec.plan.paceMs);
    }
  }

  // The agent's turn at step rec.nextStep: fail, ask for a person, or take the step.
  private advance(rec: RunRecord, budget: number): void {
    for (let i = 0; i < budget; i++) {
      if (rec.run.status !== 'running') return;
      const n = rec.nextStep;
      if (this.holds(rec, n)) return;
      if (!rec.plan.forever && n > rec.plan.steps) {
        // Only after a hold before the end (holdAt = steps + 1) was released.
        this.finish(rec, 'succeeded', { result: rec.plan.result });
        return;
      }
      if (rec.plan.failAt === n) {
        this.finish(rec, 'failed', { error: rec.plan.error });
        return;
      }
      if (rec.plan.humanAt[rec.humanIndex] === n) {
        this.askHuman(rec, n);
        return;
      }
      this.takeStep(rec, n);
      if (!rec.plan.forever && n >= rec.plan.steps) {
        if (this.holds(rec, n + 1)) return;
        this.finish(rec, 'succeeded', { result: rec.plan.result });
        return;
      }
      if (rec.run.max_steps !== null && n >= rec.run.max_steps) {
        this.finish(rec, 'timed_out', {
          error: {
            type: 'max_steps_exceeded',
            message: `the run reached max_steps (${rec.run.max_steps}) before its goal`,
          },
        });
        return;
      }
    }
    this.schedule(rec);
  }

  private holds(rec: RunRecord, n: number): boolean {
    if (rec.plan.holdAt[rec.holdIndex] !== n) return false;
    rec.held = { step: n, since: new Date().toISOString() };
    return true;
  }

  private takeStep(rec: RunRecord, n: number): void {
    const step = stepAt(rec.run.task, rec.seed, n);
    rec.nextStep = n + 1;
    rec.cents += STEP_COST_CENTS;
    rec.run.steps = n;
    rec.run.cost_usd = centsToUsd(rec.cents);
    this.counters.steps_billed++;
    this.counters.cents_billed += STEP_COST_CENTS;
    this.emit(rec, 'step', {
      step_id: `step_${n}`,
      action: step.action,
      observation: step.observation,
      cost_usd: centsToUsd(STEP_COST_CENTS),
    });
  }

  private askHuman(rec: RunRecord, n: number): void {
    const reason = rec.plan.humanReason;
    const policy = rec.run.on_awaiting_human;
    if (policy === 'fail') {
      this.finish(rec, 'failed', {
        error: {
          type: 'human_required',
          message: `the agent needed a person at step ${n} (${reason}) and on_awaiting_human is "fail"`,
        },
      });
      return;
    }
    if (policy === 'cancel') {
      this.finish(rec, 'cancelled', {
        payload: {
          reason: `the agent needed a person at step ${n} (${reason}) and on_awaiting_human is "cancel"`,
        },
      });
      return;
    }
    const since = new Date().toISOString();
    rec.run.status = 'awaiting_human';
    rec.run.awaiting_human = { reason, since };
    this.emit(rec, 'awaiting_human', {
      payload: { reason, proposed_action: stepAt(rec.run.task, rec.seed, n).action, requested_at: since },
    });
  }

  private finish(
    rec: RunRecord,
    status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out',
    outcome: { result?: string; error?: RunError; payload?: Record<string, unknown> },
  ): void {
    clearTimers(rec);
    const wasQueued = rec.run.status === 'queued';
    rec.run.status = status;
    rec.run.finished_at = new Date().toISOString();
    rec.finishedAtMs = Date.now();
    rec.run.awaiting_human = null;
    rec.held = null;
    if (outcome.result !== undefined) rec.run.result = outcome.result;
    if (outcome.error) rec.run.error = outcome.error;
    const payload =
      outcome.payload ?? (outcome.error ? { error: outcome.error } : { result: outcome.result ?? null });
    this.emit(rec, status, { payload });
    const machine = this.machine(rec.run.machine_id);
    if (wasQueued) {
      machine.queue = machine.queue.filter((r) => r !== rec);
    } else if (machine.current === rec) {
      machine.current = null;
      machine.active--;
      this.startNext(machine);
    }
  }

  private emit(rec: RunRecord, type: EventType, extra: Partial<RunEvent> = {}): void {
    const seq = ++this.eventSeq;
    const event: RunEvent = {
      id: formatEventId(seq),
      run_id: rec.run.id,
      type,
      timestamp: isoNow(),
      status: rec.run.status,
      ...extra,
    };
    const stored: StoredEvent = {
      id: event.id,
      seq,
      type,
      json: JSON.stringify(event),
      terminal: type === 'succeeded' || type === 'failed' || type === 'cancelled' || type === 'timed_out',
    };
    rec.events.push(stored);
    this.counters.events_emitted++;
    this.hooks.onEvent(rec, stored);
  }
}

let lastIsoMs = 0;
let lastIso = '';

// Fast runs emit thousands of events per millisecond; format each millisecond once.
function isoNow(): string {
  const now = Date.now();
  if (now !== lastIsoMs) {
    lastIsoMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

export function isFinished(rec: RunRecord): boolean {
  return rec.finishedAtMs !== null;
}

export function snapshot(rec: RunRecord): Run {
  return {
    ...rec.run,
    error: rec.run.error ? { ...rec.run.error } : null,
    awaiting_human: rec.run.awaiting_human ? { ...rec.run.awaiting_human } : null,
  };
}

function clearTimers(rec: RunRecord): void {
  if (rec.stepTimer) clearTimeout(rec.stepTimer);
  if (rec.stepImmediate) clearImmediate(rec.stepImmediate);
  if (rec.deadlineTimer) clearTimeout(rec.deadlineTimer);
  rec.stepTimer = null;
  rec.stepImmediate = null;
  rec.deadlineTimer = null;
}
