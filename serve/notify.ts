// Notifications: when something starts waiting for a person, POST a Slack-compatible incoming-webhook
// message (the question, the process, the signed links) to COASTY_NOTIFY_URL. Once per pause while
// serve runs (a restarted serve announces what waits again), retried with backoff, in the background:
// nothing a workflow does waits for it. The URL is a secret (it lets anyone post): never logged.
import type { WaitingItem } from '../client/inbox';

export interface NotifierOptions {
  url: URL;
  /** The message for one waiting thing. */
  message: (item: WaitingItem) => SlackMessage;
  log: (line: string) => void;
  /** Attempts per message (default 6), first delay (default 500 ms, doubling, at most 30 s). */
  attempts?: number;
  initialDelayMs?: number;
}

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

const MAX_REMEMBERED = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;

export class Notifier {
  private readonly seen = new Set<string>();
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: NotifierOptions) {}

  /** Called with the inbox each time it changes: announces the pauses not seen before. */
  observe(items: WaitingItem[]): void {
    for (const item of items) {
      if (this.seen.has(item.key)) continue;
      this.seen.add(item.key);
      if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value!);
      const sending = this.send(item).finally(() => this.pending.delete(sending));
      this.pending.add(sending);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async send(item: WaitingItem): Promise<void> {
    const attempts = this.options.attempts ?? 6;
    let delay = this.options.initialDelayMs ?? 500;
    const body = JSON.stringify(this.options.message(item));
    for (let attempt = 1; attempt <= attempts && !this.abort.signal.aborted; attempt += 1) {
      let why: string;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        await response.body?.cancel();
        if (response.ok) return;
        why = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429 && response.status !== 408) {
          this.options.log(`notification for ${item.key} refused (${why}); not retried`);
          return;
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        why = (error as Error).name === 'TimeoutError' ? 'no answer in 10 s' : 'connection failed';
      }
      if (attempt === attempts) {
        this.options.log(`notification for ${item.key} not delivered after ${attempts} attempts (${why})`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay * (1 + Math.random() * 0.25)));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Slack's mrkdwn: &, < and > must be escaped, or agent text could make links and mentions. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
