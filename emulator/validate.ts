// Request validation with the documented error shape: the first bad field is named in `param`.
import { RUN_STATUSES, type OnAwaitingHuman, type ResumeRequest, type RunStatus } from '../api/types';
import type { ValidCreate } from './engine';
import { invalid } from './http-util';

const CREATE_FIELDS = [
  'machine_id',
  'task',
  'cua_version',
  'max_steps',
  'deadline_seconds',
  'on_awaiting_human',
  'webhook_url',
] as const;
const POLICIES: readonly OnAwaitingHuman[] = ['pause', 'fail', 'cancel'];
export const MAX_STEPS_LIMIT = 100000;
export const MAX_DEADLINE_SECONDS = 7 * 24 * 3600;
const MAX_MESSAGE_CHARS = 10000;

export interface CreateLimits {
  maxTaskChars: number;
  machines: ReadonlySet<string>;
}

export function validateCreate(body: Record<string, unknown>, limits: CreateLimits): ValidCreate {
  rejectUnknown(body, CREATE_FIELDS);
  const machineId = body.machine_id;
  if (machineId === undefined || machineId === null) throw invalid('machine_id is required', 'machine_id');
  if (typeof machineId !== 'string') throw invalid('machine_id must be a string', 'machine_id');
  if (!limits.machines.has(machineId)) {
    throw invalid(`unknown machine_id "${machineId}"; GET /v1/machines lists the machines`, 'machine_id');
  }
  const task = body.task;
  if (task === undefined || task === null) throw invalid('task is required', 'task');
  if (typeof task !== 'string') throw invalid('task must be a string', 'task');
  if (task.trim() === '') throw invalid('task must not be empty', 'task');
  const taskChars = [...task].length;
  if (taskChars > limits.maxTaskChars) {
    throw invalid(`task is ${taskChars} characters long; the limit is ${limits.maxTaskChars}`, 'task');
  }
  const out: ValidCreate = { machine_id: machineId, task, cua_version: 'v3', on_awaiting_human: 'pause' };
  if (body.cua_version !== undefined && body.cua_version !== null) {
    if (typeof body.cua_version !== 'string' || !/^v\d{1,3}$/.test(body.cua_version)) {
      throw invalid('cua_version must be a version string like "v3"', 'cua_version');
    }
    out.cua_version = body.cua_version;
  }
  if (body.max_steps !== undefined && body.max_steps !== null) {
    const n = body.max_steps;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_STEPS_LIMIT) {
      throw invalid(`max_steps must be an integer from 1 to ${MAX_STEPS_LIMIT}`, 'max_steps');
    }
    out.max_steps = n;
  }
  if (body.deadline_seconds !== undefined && body.deadline_seconds !== null) {
    const n = body.deadline_seconds;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_DEADLINE_SECONDS) {
      throw invalid(
        `deadline_seconds must be a number above 0 and at most ${MAX_DEADLINE_SECONDS}`,
        'deadline_seconds',
      );
    }
    out.deadline_seconds = n;
  }
  if (body.on_awaiting_human !== undefined && body.on_awaiting_human !== null) {
    if (!POLICIES.includes(body.on_awaiting_human as OnAwaitingHuman)) {
      throw invalid('on_awaiting_human must be one of "pause", "fail", "cancel"', 'on_awaiting_human');
    }
    out.on_awaiting_human = body.on_awaiting_human as OnAwaitingHuman;
  }
  if (body.webhook_url !== undefined && body.webhook_url !== null) {
    if (typeof body.webhook_url !== 'string' || !isHttpUrl(body.webhook_url)) {
      throw invalid('webhook_url must be an absolute http or https URL', 'webhook_url');
    }
    out.webhook_url = body.webhook_url;
  }
  return out;
}

export function validateResume(body: Record<string, unknown>): ResumeRequest {
  rejectUnknown(body, ['action', 'message']);
  if (body.action === undefined || body.action === null) throw invalid('action is required', 'action');
  if (body.action !== 'approve' && body.action !== 'reject') {
    throw invalid('action must be "approve" or "reject"', 'action');
  }
  const out: ResumeRequest = { action: body.action };
  if (body.message !== undefined && body.message !== null) {
    if (typeof body.message !== 'string') throw invalid('message must be a string', 'message');
    if (body.message.length > MAX_MESSAGE_CHARS) {
      throw invalid(`message is longer than ${MAX_MESSAGE_CHARS} characters`, 'message');
    }
    out.message = body.message;
  }
  return out;
}

export function validateCancel(body: Record<string, unknown>): { reason?: string } {
  rejectUnknown(body, ['reason']);
  if (body.reason === undefined || body.reason === null) return {};
  if (typeof body.reason !== 'string' || body.reason.length > MAX_MESSAGE_CHARS) {
    throw invalid(`reason must be a string of at most ${MAX_MESSAGE_CHARS} characters`, 'reason');
  }
  return { reason: body.reason };
}

export interface ListQuery {
  status?: RunStatus;
  machineId?: string;
  limit: number;
  after?: string;
}

export function validateList(
  query: URLSearchParams,
  machines: ReadonlySet<string>,
  runExists: (id: string) => boolean,
): ListQuery {
  const out: ListQuery = { limit: 20 };
  const status = query.get('status');
  if (status !== null && status !== '') {
    if (!(RUN_STATUSES as readonly string[]).includes(status)) {
      throw invalid(`status must be one of ${RUN_STATUSES.join(', ')}`, 'status');
    }
    out.status = status as RunStatus;
  }
  const machineId = query.get('machine_id');
  if (machineId !== null && machineId !== '') {
    if (!machines.has(machineId)) throw invalid(`unknown machine_id "${machineId}"`, 'machine_id');
    out.machineId = machineId;
  }
  const limit = query.get('limit');
  if (limit !== null && limit !== '') {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
      throw invalid('limit must be an integer from 1 to 100', 'limit');
    }
    out.limit = Number(limit);
  }
  const after = query.get('after');
  if (after !== null && after !== '') {
    if (!runExists(after)) throw invalid(`after: no run with id "${after}"`, 'after');
    out.after = after;
  }
  return out;
}

function rejectUnknown(body: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) throw invalid(`unknown field "${key}"; allowed: ${known.join(', ')}`, key);
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
