// `.coasty-temporal/stack.json`: where a running embedded stack can be reached, so that commands in a
// second terminal attach to it instead of starting another one. `stack.lock` says a stack is starting
// or running in this directory (its pid), so two `npm start` never open the same database.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isAlive } from './temporal-cli';

export const STATE_DIR_NAME = '.coasty-temporal';
export const STACK_FILE_NAME = 'stack.json';
const LOCK_FILE_NAME = 'stack.lock';

export interface StackRecord {
  version: 1;
  /** The process that runs the stack (and removes this file when it stops). */
  pid: number;
  /** The directory whose `.coasty-temporal/` holds the database. */
  cwd: string;
  temporalAddress: string;
  namespace: string;
  uiUrl: string;
  /** COASTY_BASE_URL of the emulator. */
  apiBaseUrl: string;
  taskQueue: string;
  /** The web inbox of `serve` (older records: absent). */
  serveUrl?: string;
  startedAt: string;
}

export function stateDir(cwd: string = process.cwd()): string {
  return join(resolve(cwd), STATE_DIR_NAME);
}

/** The stack record of this directory or the nearest parent that has one whose process is alive. */
export function findStackRecord(from: string = process.cwd()): StackRecord | undefined {
  let dir = resolve(from);
  for (;;) {
    const record = readStackRecord(join(dir, STATE_DIR_NAME));
    if (record) return record;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Reads `<stateDir>/stack.json`; a file left by a process that died is removed and ignored. */
export function readStackRecord(dir: string): StackRecord | undefined {
  const path = join(dir, STACK_FILE_NAME);
  if (!existsSync(path)) return undefined;
  let record: StackRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as StackRecord;
  } catch {
    return undefined; // being written (rename makes that unlikely) or damaged: treat as absent
  }
  if (record.version !== 1 || typeof record.pid !== 'number' || typeof record.temporalAddress !== 'string') {
    return undefined;
  }
  if (!isAlive(record.pid)) {
    rmSync(path, { force: true });
    return undefined;
  }
  return record;
}

export function writeStackRecord(dir: string, record: StackRecord): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, STACK_FILE_NAME);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Removes stack.json if it is this process's. */
export function removeStackRecord(dir: string, pid: number = process.pid): void {
  const path = join(dir, STACK_FILE_NAME);
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as StackRecord;
    if (record.pid === pid) rmSync(path, { force: true });
  } catch {
    // absent or unreadable: nothing of ours to remove
  }
}

export type LockResult = { acquired: true; release(): void } | { acquired: false; heldBy: number };

/** Takes `<stateDir>/stack.lock` for this process, unless a live process holds it. */
export function acquireStackLock(dir: string): LockResult {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return {
        acquired: true,
        release: () => {
          if (lockHolder(path) === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(path);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
        return { acquired: false, heldBy: holder };
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`cannot take the stack lock ${path}: remove it if no coasty-temporal process runs`);
}

function lockHolder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The live process that holds `<stateDir>/stack.lock` (starting or running a stack), if any but us. */
export function liveLockHolder(dir: string): number | undefined {
  const pid = lockHolder(join(dir, LOCK_FILE_NAME));
  return pid !== undefined && pid !== process.pid && isAlive(pid) ? pid : undefined;
}
