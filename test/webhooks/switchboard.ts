// A loopback HTTP hop between the emulator and the real receiver: it forwards each delivery as it
// came (same bytes, same headers) and records it; it can play "down" (503 to everything), and replay
// recorded deliveries later, in any order, as the API's at-least-once delivery may.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { request } from 'undici';

export interface RecordedDelivery {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered (503 while down; 0: swallowed, never forwarded). */
  status: number;
}

export class Switchboard {
  readonly recorded: RecordedDelivery[] = [];
  down = false;
  /** Deliveries this matches are answered 200 but not forwarded: replayed later, they arrive late. */
  swallow: ((body: string) => boolean) | undefined;
  target: string;
  #server: Server | undefined;
  #port = 0;

  constructor(target: string) {
    this.target = target;
  }

  /** Where the worker points runs: this hop, with the receiver's path. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}${new URL(this.target).pathname}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = forwarded(req.headers);
        const path = req.url ?? '/';
        void this.#answer(path, headers, body).then(({ status, text }) => {
          this.recorded.push({ path, headers, body, status });
          res.writeHead(status || 200, { 'content-type': 'application/json' }).end(text);
        });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as { port: number }).port;
  }

  /** Sends a recorded delivery again, as it was; resolves with the receiver's status. */
  async replay(delivery: RecordedDelivery, headers: Record<string, string> = {}): Promise<number> {
    return (await this.#forward(delivery.path, { ...delivery.headers, ...headers }, delivery.body)).status;
  }

  async #answer(path: string, headers: Record<string, string>, body: string) {
    if (this.down) return { status: 503, text: '{"error":{"code":"down","message":"receiver down (test)"}}' };
    if (this.swallow?.(body)) return { status: 0, text: '{"ok":true}' };
    return this.#forward(path, headers, body).catch(() => ({ status: 502, text: '' }));
  }

  async #forward(path: string, headers: Record<string, string>, body: string) {
    const target = new URL(path, this.target);
    const res = await request(target, { method: 'POST', headers, body });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function forwarded(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'coasty-event-id', 'coasty-signature', 'coasty-delivery-attempt']) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
