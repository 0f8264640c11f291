// The live view in a terminal: one frame (headline, a line per step or item in flight, who is waiting)
// redrawn in place, at most once a second when nothing changes (for the elapsed times). It writes its own
// escape sequences, so what it is given is made safe on the way in (before it is measured and clipped).
import { dollars } from '../../core/money';
import type { Outcome } from '../outcome';
import { safeText, safeValue } from '../safe-text';
import type { Pause, Snapshot } from '../snapshot';
import { pauseCommands, pauseWhere, truncate } from './format';
import { batchBar, headline, idWidth, lineText, stateText, SYMBOL, toneOf, type Tone } from './lines';
import type { View, ViewContext } from './view';

const COLORS: Record<Tone | 'bold' | 'faint', [string, string]> = {
  ok: ['\x1b[32m', '\x1b[39m'],
  bad: ['\x1b[31m', '\x1b[39m'],
  active: ['\x1b[36m', '\x1b[39m'],
  wait: ['\x1b[33m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  faint: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
};

export class TtyView implements View {
  private drawn = 0;
  private snapshot: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private suspended = false;
  private readonly color: boolean;

  constructor(private readonly context: ViewContext & { out: NodeJS.WriteStream }) {
    this.color = !process.env.NO_COLOR;
    this.write('\x1b[?25l'); // hide the cursor while the frame is live
    this.timer = setInterval(() => this.render(), 1000);
    this.timer.unref();
  }

  update(raw: Snapshot): void {
    const snapshot = safeValue(raw);
    const changed = JSON.stringify(snapshot) !== JSON.stringify(this.snapshot);
    this.snapshot = snapshot;
    if (changed) this.render(); // else the timer redraws the elapsed times
  }

  announcePause(): void {
    // The frame shows every open pause with the commands that answer it.
  }

  note(text: string): void {
    this.clear();
    this.write(`${this.paint('faint', safeText(text))}\n`);
    this.render();
  }

  suspend(): void {
    this.render();
    this.suspended = true;
    this.drawn = 0; // the frame stays on screen above the prompt
    this.write('\x1b[?25h');
  }

  resume(): void {
    this.suspended = false;
    this.write('\x1b[?25l');
    this.render();
  }

  finish(raw: Snapshot, rawOutcome: Outcome): void {
    const snapshot = safeValue(raw);
    const outcome = safeValue(rawOutcome);
    this.snapshot = snapshot;
    this.render({ final: true });
    this.stop();
    const verdict = outcome.ok
      ? this.paint('ok', `✓ ${snapshot.name} ${outcome.status}`)
      : this.paint('bad', `✗ ${snapshot.name} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
    this.write(`${verdict}\n`);
  }

  interrupted(snapshot: Snapshot | undefined, hints: string[]): void {
    if (snapshot) this.snapshot = safeValue(snapshot);
    this.render({ final: true });
    this.stop();
    this.write(`${hints.map((hint) => safeText(hint)).join('\n')}\n`);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.drawn = 0;
    this.write('\x1b[?25h');
  }

  private render(options: { final?: boolean } = {}): void {
    if (this.suspended || !this.snapshot) return;
    const lines = this.frame(this.snapshot, Date.now(), options.final ?? false);
    this.clear();
    this.write(lines.map((line) => `${line}\n`).join(''));
    this.drawn = lines.length;
  }

  private clear(): void {
    if (this.drawn > 0) this.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private frame(snapshot: Snapshot, now: number, final: boolean): string[] {
    // A terminal that reports no size (0 columns: some serial consoles, `script` without a size) falls back
    // to COLUMNS, then 100.
    const columns = this.context.out.columns || Number(process.env.COLUMNS) || 100;
    const width = Math.max(40, columns - 1);
    const tone = toneOf(snapshot.status);
    const out = [
      `${this.paint(tone, SYMBOL[tone])} ${this.paint('bold', truncate(headline(snapshot, now), width - 2))}`,
    ];
    if (snapshot.batch) out.push(`  ${batchBar(snapshot)}`);
    const ids = idWidth(snapshot.lines);
    for (const line of snapshot.lines) {
      const lineTone = toneOf(line.state);
      out.push(`  ${this.paint(lineTone, SYMBOL[lineTone])} ${lineText(line, ids, now, width - 4)}`);
    }
    if (snapshot.batch && snapshot.lines.length === 0 && !final)
      out.push(this.paint('faint', '  (no item in flight)'));
    if (snapshot.budget) {
      out.push(
        this.paint(
          'wait',
          `  ? ${stateText('awaiting_budget')}: needs ${dollars(snapshot.budget.neededUsd)}, budget ${dollars(snapshot.budget.maxCostUsd)}: npx coasty-temporal raise-budget ${snapshot.workflowId} <usd>`,
        ),
      );
    }
    for (const pause of snapshot.pauses) out.push(...this.pauseLines(snapshot, pause, width));
    if (snapshot.progressError) out.push(this.paint('bad', `  ${snapshot.progressError}`));
    if (!final) {
      const ui = this.context.webUiUrl ? `Web UI ${this.context.webUiUrl} · ` : '';
      out.push(this.paint('faint', `  ${ui}Ctrl-C stops watching (the process goes on)`));
    }
    return out;
  }

  private pauseLines(snapshot: Snapshot, pause: Pause, width: number): string[] {
    const head = `  ? ${pauseWhere(pause)} waits for a person: ${pause.reason}`;
    const lines = [this.paint('wait', truncate(head, width))];
    if (pause.proposedAction) lines.push(truncate(`    next action: ${pause.proposedAction}`, width));
    lines.push(
      this.paint('faint', truncate(`    answer here, or: ${pauseCommands(snapshot, pause)[0]}`, width)),
    );
    return lines;
  }

  private paint(tone: Tone | 'bold' | 'faint', text: string): string {
    if (!this.color) return text;
    const [on, off] = COLORS[tone];
    return `${on}${text}${off}`;
  }

  private write(text: string): void {
    this.context.out.write(text);
  }
}
