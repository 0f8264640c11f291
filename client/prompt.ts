// The inline approve/reject prompt. Reads a terminal or a pipe: `a` / `approve` / `y` approves, `r` /
// `reject` / `n` rejects, and the rest of the line is the message ("r wrong amount"). When the input
// ends (a pipe closed, /dev/null), `ended` turns true and decisions must come from another terminal.
import { createInterface, type Interface } from 'node:readline';
import { createInterface as createPromiseInterface } from 'node:readline/promises';
import { safeText } from './safe-text';

export interface Answer {
  action: 'approve' | 'reject';
  message?: string;
}

const APPROVE = new Set(['a', 'approve', 'approved', 'y', 'yes', 'ok']);
const REJECT = new Set(['r', 'reject', 'rejected', 'n', 'no']);

/** undefined: not an answer (ask again). */
export function parseAnswer(line: string): Answer | undefined {
  const match = /^\s*([A-Za-z]+)\b[\s:,-]*(.*)$/.exec(line);
  if (!match) return undefined;
  const word = match[1]!.toLowerCase();
  const message = match[2]!.trim() || undefined;
  if (APPROVE.has(word)) return { action: 'approve', ...(message ? { message } : {}) };
  if (REJECT.has(word)) return { action: 'reject', ...(message ? { message } : {}) };
  return undefined;
}

export const ANSWER_HELP =
  'Answer a (approve) or r (reject), optionally followed by a message: "r the amount is wrong".';

export class Prompter {
  private reader: Interface | undefined;
  private readonly queue: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private inputEnded = false;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WritableStream,
    /** Ctrl-C typed at a terminal prompt (readline swallows the signal). */
    private readonly onInterrupt: () => void = () => process.kill(process.pid, 'SIGINT'),
  ) {}

  /** The input is closed: nothing more can be read from it. */
  get ended(): boolean {
    return this.inputEnded;
  }

  get isTerminal(): boolean {
    return Boolean(this.input.isTTY);
  }

  /** Asks until a valid answer; undefined when `signal` aborts or the input ends. */
  async ask(question: string, signal: AbortSignal): Promise<Answer | undefined> {
    for (;;) {
      const line = this.isTerminal
        ? await this.askTerminal(question, signal)
        : await this.askPipe(question, signal);
      if (line === undefined) return undefined;
      const answer = parseAnswer(line);
      if (answer) return answer;
      if (line.trim() !== '') this.output.write(`${ANSWER_HELP}\n`);
    }
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }

  private async askTerminal(question: string, signal: AbortSignal): Promise<string | undefined> {
    if (signal.aborted) return undefined;
    const rl = createPromiseInterface({ input: this.input, output: this.output, terminal: true });
    rl.on('SIGINT', () => {
      rl.close();
      this.onInterrupt();
    });
    try {
      return await rl.question(safeText(question), { signal });
    } catch {
      return undefined; // aborted, or closed by Ctrl-C
    } finally {
      rl.close();
    }
  }

  private async askPipe(question: string, signal: AbortSignal): Promise<string | undefined> {
    if (signal.aborted || this.inputEnded) return undefined;
    // A whole line: whoever feeds the pipe reads line by line. The answer is echoed (it was not typed here).
    this.output.write(`${safeText(question.trimEnd())}\n`);
    const line = await this.nextLine(signal);
    if (line !== undefined) this.output.write(`> ${safeText(line)}\n`);
    return line;
  }

  private nextLine(signal: AbortSignal): Promise<string | undefined> {
    this.ensureReader();
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.inputEnded) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (line) => {
        signal.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve(line);
      };
    });
  }

  private ensureReader(): void {
    if (this.reader || this.inputEnded) return;
    this.reader = createInterface({ input: this.input, terminal: false });
    this.reader.on('line', (line) => {
      if (this.waiter) this.waiter(line);
      else this.queue.push(line);
    });
    this.reader.on('close', () => {
      this.inputEnded = true;
      this.waiter?.(undefined);
    });
  }
}
