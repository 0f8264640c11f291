// The fleet benchmark's external SSE listener (mode d), what a Temporal user writes beside their
// workers to follow runs: an activity hands it (POST /follow {runId, workflowId}) each run it
// created; it opens the run's event stream with the npm `eventsource` client (reconnecting with
// Last-Event-ID) and signals every event, in order, into the run's workflow (`runEvent`), until the
// terminal event. Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, COASTY_BASE_URL, COASTY_API_KEY.
// Prints "listener ready <url>"; on SIGTERM prints "counts <json>" and stops.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { EventSource } from 'eventsource';
import type { RunEvent } from '../api/types';
import { isTerminalStatus } from '../api/types';
import { runEventSignal } from './workflows/fleet-baselines';

const baseUrl = process.env.COASTY_BASE_URL!;
const apiKey = process.env.COASTY_API_KEY!;
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });

const counts = { follows: 0, events: 0, signals: 0, signalErrors: 0, streamErrors: 0, open: 0 };
const followed = new Map<string, EventSource>();
const MAX_FOLLOWED = 50_000;

function follow(runId: string, workflowId: string): void {
  if (followed.has(runId) || followed.size >= MAX_FOLLOWED) return;
  counts.follows += 1;
  counts.open += 1;
  const handle = client.workflow.getHandle(workflowId);
  const queue: RunEvent[] = [];
  let pumping = false;
  let ended = false;
  const close = () => {
    if (ended) return;
    ended = true;
    es.close();
    counts.open -= 1;
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    while (queue.length > 0) {
      const event = queue.shift()!;
      for (let attempt = 1; ; attempt++) {
        try {
          await handle.signal(runEventSignal, event);
          counts.signals += 1;
          break;
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) {
            queue.length = 0;
            close();
            break;
          }
          counts.signalErrors += 1;
          if (attempt >= 5) break;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    }
    pumping = false;
  };
  const es = new EventSource(`${baseUrl}/runs/${encodeURIComponent(runId)}/events`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${apiKey}` } }),
  });
  followed.set(runId, es);
  es.onmessage = (message) => {
    const event = JSON.parse(message.data) as RunEvent;
    counts.events += 1;
    queue.push(event);
    if (isTerminalStatus(event.status)) close();
    void pump();
  };
  es.onerror = () => {
    counts.streamErrors += 1;
    if (es.readyState === EventSource.CLOSED) close();
  };
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/follow') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > 10_000) req.destroy();
  });
  req.on('end', () => {
    try {
      const { runId, workflowId } = JSON.parse(body) as { runId?: unknown; workflowId?: unknown };
      if (typeof runId !== 'string' || typeof workflowId !== 'string') throw new Error('runId, workflowId');
      follow(runId, workflowId);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
console.log(`listener ready http://127.0.0.1:${(server.address() as AddressInfo).port}/follow`);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
console.log(`counts ${JSON.stringify(counts)}`);
for (const es of followed.values()) es.close();
server.close();
server.closeAllConnections();
await connection.close();
