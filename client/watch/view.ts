import type { Outcome } from '../outcome';
import type { Pause, Snapshot } from '../snapshot';

/** Where the watcher's observations go: a live terminal frame, timestamped lines, or JSON lines. */
export interface View {
  update(snapshot: Snapshot): void;
  /** A pause nobody answers here: say how to answer it from another terminal (once per pause). */
  announcePause(snapshot: Snapshot, pause: Pause): void;
  /** Something happened that is not in the snapshot: a decision was sent, a prompt was answered elsewhere. */
  note(text: string, data?: Record<string, unknown>): void;
  /** Before a prompt: stop redrawing, keep what is on screen. */
  suspend(): void;
  resume(): void;
  finish(snapshot: Snapshot, outcome: Outcome): void;
  /** Ctrl-C: the watch stops, the process goes on. */
  interrupted(snapshot: Snapshot | undefined, hints: string[]): void;
}

export interface ViewContext {
  /** The Temporal Web UI of this process, when known. */
  webUiUrl?: string;
  out: NodeJS.WritableStream;
}
