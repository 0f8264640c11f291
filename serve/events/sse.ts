// A process's events as Server-Sent Events: `retry:` first, then each event after the cursor as
// `id:` and one `data:` line of JSON, a keepalive comment when quiet, the end after process_finished.
import type { ServerResponse } from 'node:http';
import type { ProcessEventLog } from './event-log';

const KEEPALIVE_MS = 10_000;

/** Streams `log` from `position` until it ends, the client goes away or `closing` aborts. */
export async function streamProcessEvents(
  res: ServerResponse,
  log: ProcessEventLog,
  position: number,
  closing: AbortSignal,
  headers: Record<string, string> = {},
): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    ...headers,
  });
  res.write('retry: 2000\n\n');
  const gone = new AbortController();
  const end = () => gone.abort();
  res.on('close', end);
  closing.addEventListener('abort', end, { once: true });
  log.followers += 1;
  try {
    let next = position;
    while (!gone.signal.aborted) {
      let chunk = '';
      for (; next < log.events.length; next++) {
        const event = log.events[next]!;
        chunk += `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
      }
      if (chunk && !res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      // A reader that failed (Temporal or the runs API away) ends the stream: the client reconnects
      // with its cursor and a fresh reader picks up from there.
      if (log.done || log.failed !== undefined) break;
      const before = log.events.length;
      await log.changed(gone.signal, KEEPALIVE_MS);
      if (log.events.length === before && !log.done && !gone.signal.aborted) res.write(': keepalive\n\n');
    }
  } finally {
    log.followers -= 1;
    log.lastUsed = Date.now();
    res.off('close', end);
    closing.removeEventListener('abort', end);
    if (!res.writableEnded) res.end();
  }
}
