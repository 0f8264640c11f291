// Not a terminal: timestamped lines, one for each change of the process or of a step or item. Every line
// goes out through line(), which makes it safe: one line each, nothing a terminal would act on.
import type { Outcome } from '../outcome';
import { safeText } from '../safe-text';
import type { Pause, Snapshot } from '../snapshot';
import { pauseCommands, pauseWhere } from './format';
import { headline, idWidth, lineText } from './lines';
import type { View, ViewContext } from './view';

export class PlainView implements View {
  private readonly last = new Map<string, string>();

  constructor(private readonly context: ViewContext) {}

  update(snapshot: Snapshot): void {
    // Elapsed times change every second: they are not a change worth a line.
    const head = headline({ ...snapshot, startedAt: '', closedAt: undefined }, 0);
    this.emit('', head);
    const ids = idWidth(snapshot.lines);
    for (const line of snapshot.lines) {
      this.emit(line.id, lineText({ ...line, startedAt: undefined }, ids, 0, 400).replace(/\s+/g, ' '));
    }
    if (snapshot.progressError) this.emit('!progress', snapshot.progressError);
  }

  announcePause(snapshot: Snapshot, pause: Pause): void {
    const [approve, reject] = pauseCommands(snapshot, pause);
    this.line(`${pauseWhere(pause)} waits for a person: ${pause.reason}`);
    if (pause.proposedAction) this.line(`  next action: ${pause.proposedAction}`);
    this.line(`  approve: ${approve}`);
    this.line(`  reject:  ${reject}`);
  }

  note(text: string): void {
    this.line(text);
  }

  suspend(): void {}

  resume(): void {}

  finish(snapshot: Snapshot, outcome: Outcome): void {
    this.update(snapshot);
    this.line(
      `${snapshot.name} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''} ` +
        `(${snapshot.costUsd.toFixed(2)} USD)`,
    );
  }

  interrupted(_snapshot: Snapshot | undefined, hints: string[]): void {
    for (const hint of hints) this.line(hint);
  }

  private emit(key: string, text: string): void {
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.line(key && !key.startsWith('!') ? `  ${text}` : text);
  }

  private line(text: string): void {
    this.context.out.write(`${new Date().toISOString()} ${safeText(text)}\n`);
  }
}
