// Webhook signatures: the emulator signs every delivery; a receiver built on WebhookVerifier (the
// receiver's own signature check, api/webhooks.ts) accepts each event once, in order (retries and
// replays acknowledged, not processed again), and rejects forged, tampered, stale and replayed-too-late
// deliveries. serve's receiver itself is tested in test/webhooks and test/unit/webhook-receiver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunsClient } from '../../api/runs-client';
import { signWebhook, startEmulator, type RunningEmulator } from '../../emulator';
import { waitUntil } from '../helpers/wait';
import { rawRequest } from '../chaos/scenarios/bad-input';
import { WebhookVerificationError, WebhookVerifier } from './webhook-verifier';

const SECRET = 'whsec_security_test_93be1f';
let emulator: RunningEmulator;
let receiver: Server;
let receiverUrl: string;
const verifier = new WebhookVerifier({ secret: SECRET });
const processed: string[] = [];
const captured: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
let duplicates = 0;
let failOnce = true;

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        const delivery = verifier.verify(body, req.headers);
        if (delivery.duplicate) duplicates++;
        else {
          processed.push(delivery.eventId);
          captured.push({ body: body.toString('utf8'), headers: req.headers });
        }
        // Crash after processing the second event, once: the emulator retries, the retry is a duplicate.
        if (processed.length === 2 && failOnce && !delivery.duplicate) {
          failOnce = false;
          res.writeHead(500).end();
          return;
        }
        res.writeHead(200).end('ok');
      } catch (error) {
        const reason = error instanceof WebhookVerificationError ? error.reason : 'error';
        res.writeHead(error instanceof WebhookVerificationError ? 401 : 500).end(reason);
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  emulator = await startEmulator({
    config: { agent: { paceMs: 5 }, webhooks: { secret: SECRET, backoffBaseMs: 20, backoffMaxMs: 100 } },
  });
});
after(async () => {
  await emulator?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const post = (body: string, headers: Record<string, string>) =>
  rawRequest(receiverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

test('every event of a run is delivered, verified and processed once, in order, despite a failed delivery', async () => {
  const client = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
  const run = await client.createRun({
    machine_id: 'm-1',
    task: 'Webhook me [steps=6]',
    webhook_url: receiverUrl,
  });
  await client.close();
  const events = await waitUntil('the run to end', async () => {
    const all = await emulator.admin.runEvents(run.id);
    return all.some((event) => ['succeeded', 'failed'].includes(event.type)) ? all : undefined;
  });
  await waitUntil(
    'every event delivered',
    () => processed.length === events.length && duplicates >= 1,
    30_000,
    50,
  );
  assert.deepEqual(
    processed,
    events.map((event) => event.id),
    'each event once, in order',
  );
  assert.equal(duplicates, 1, 'the retried delivery was recognised, not processed again');
  const counters = await emulator.admin.counters();
  assert.ok(counters.webhook_attempts > counters.webhook_deliveries, 'the emulator retried');
  assert.equal(counters.webhook_failures, 0);
});

test('a replayed genuine delivery (inside the window) is acknowledged but not processed again', async () => {
  assert.ok(captured.length > 0);
  const before = processed.length;
  for (const { body, headers } of captured) {
    const answer = await post(body, { 'coasty-signature': String(headers['coasty-signature']) });
    assert.equal(answer.status, 200);
  }
  assert.equal(processed.length, before);
});

test('forged, tampered, stale and malformed deliveries are rejected with 401', async () => {
  const { body, headers } = captured[0]!;
  const genuine = String(headers['coasty-signature']);
  const t = Number(/t=(\d+)/.exec(genuine)![1]);
  const now = Math.floor(Date.now() / 1000);
  const fresh = JSON.stringify({ ...JSON.parse(body), id: 'evt_forged_1' });
  const cases: Array<[string, string, Record<string, string>, string]> = [
    [
      'signed with another secret',
      fresh,
      { 'coasty-signature': signWebhook('whsec_attacker', now, fresh) },
      'bad_signature',
    ],
    [
      'body changed after signing',
      body.replace('"type":"', '"type":"x'),
      { 'coasty-signature': genuine },
      'bad_signature',
    ],
    [
      'timestamp changed after signing',
      body,
      { 'coasty-signature': genuine.replace(`t=${t}`, `t=${t + 1}`) },
      'bad_signature',
    ],
    ['signed 10 minutes ago', fresh, { 'coasty-signature': signWebhook(SECRET, now - 600, fresh) }, 'stale'],
    [
      'signed 10 minutes ahead',
      fresh,
      { 'coasty-signature': signWebhook(SECRET, now + 600, fresh) },
      'stale',
    ],
    ['no signature', fresh, {}, 'missing_signature'],
    ['a signature without v1', fresh, { 'coasty-signature': `t=${now}` }, 'malformed_signature'],
    ['a signature of garbage', fresh, { 'coasty-signature': 'sha256=abc' }, 'malformed_signature'],
    [
      'a valid signature over a non-event',
      '[]',
      { 'coasty-signature': signWebhook(SECRET, now, '[]') },
      'bad_body',
    ],
  ];
  const before = processed.length;
  for (const [what, payload, sigHeaders, reason] of cases) {
    const answer = await post(payload, sigHeaders);
    assert.equal(answer.status, 401, what);
    assert.equal(answer.text, reason, what);
  }
  assert.equal(processed.length, before, 'nothing forged was processed');
});

test('a genuine delivery replayed after the 5-minute window is rejected as stale', () => {
  const { body, headers } = captured[0]!;
  const t = Number(/t=(\d+)/.exec(String(headers['coasty-signature']))![1]);
  const later = new WebhookVerifier({ secret: SECRET, now: () => t + 301 });
  assert.throws(
    () => later.verify(body, headers),
    (error: unknown) => (error as WebhookVerificationError).reason === 'stale',
  );
  const inTime = new WebhookVerifier({ secret: SECRET, now: () => t + 299 });
  assert.equal(inTime.verify(body, headers).duplicate, false);
  const rotating = new WebhookVerifier({ secret: ['whsec_next', SECRET], now: () => t });
  assert.equal(rotating.verify(body, headers).eventId, JSON.parse(body).id, 'any of the rotating secrets');
});
