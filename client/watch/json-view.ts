// --json: one JSON object per line (NDJSON): `progress` on each change, `awaiting` for a pause nobody
// answers here, `note`, and finally `done` (with the outcome) or `interrupted`.
import type { Outcome } from '../outcome';
import type { Pause, Snapshot } from '../snapshot';
import { pauseCommands } from './format';
import type { View, ViewContext } from './view';

export class JsonView implements View {
  private last = '';

  constructor(private readonly context: ViewContext) {}

  update(snapshot: Snapshot): void {
    const text = JSON.stringify(snapshot);
    if (text === this.last) return;
    this.last = text;
    this.emit({ type: 'progress', snapshot });
  }

  announcePause(snapshot: Snapshot, pause: Pause): void {
    const [approve, reject] = pauseCommands(snapshot, pause);
    this.emit({ type: 'awaiting', workflowId: snapshot.workflowId, pause, approve, reject });
  }

  note(text: string, data: Record<string, unknown> = {}): void {
    this.emit({ type: 'note', text, ...data });
  }

  suspend(): void {}

  resume(): void {}

  finish(snapshot: Snapshot, outcome: Outcome): void {
    this.emit({ type: 'done', workflowId: snapshot.workflowId, ...outcome, snapshot });
  }

  interrupted(snapshot: Snapshot | undefined, hints: string[]): void {
    this.emit({ type: 'interrupted', workflowId: snapshot?.workflowId, status: snapshot?.status, hints });
  }

  private emit(value: Record<string, unknown>): void {
    this.context.out.write(`${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
  }
}
