// serve over real HTTP on the real stack: sign-in and CSRF, bad input, signed links, notifications,
// and secrets that must never reach a page or an API answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { progressQuery, type ChainProgress } from '../../workflows/messages';
import { linkUrl } from '../../serve/links';
import { agent, chain, gate } from '../chain/specs';
import { runCli } from '../cli/helpers';
import { testServerAddress } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { HttpSession, startChain, startServeStack, type ServeStack } from './helpers';

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const LINK_SECRET = randomBytes(32).toString('hex');
const SECRET = `pw-${randomBytes(10).toString('hex')}`;

interface Received {
  body: { text: string; blocks?: unknown[] };
}
const received: Received[] = [];
let receiver: Server;
let failFirst = true;
let s: ServeStack;
let ops: HttpSession;

before(async () => {
  // The notification receiver answers the first POST with a 503: the notifier must retry it.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (failFirst) {
        failFirst = false;
        res.writeHead(503).end();
        return;
      }
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  s = await startServeStack({
    label: 'serve-http',
    env: {
      COASTY_SERVE_TOKENS: `ops=${TOKEN}`,
      COASTY_LINK_SECRET: LINK_SECRET,
      COASTY_NOTIFY_URL: notifyUrl,
      COASTY_SECRET_BANK: SECRET,
    },
    runs: true,
    workerEnv: { COASTY_SECRET_BANK: SECRET },
    rules: [
      { pattern: 'echo-question', behaviour: { humanReason: `May I type ${SECRET} into the bank form?` } },
    ],
  });
  ops = await HttpSession.signIn(s.serve.url, TOKEN);
});
after(async () => {
  await s?.stop();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

const gateChain = () =>
  chain([
    agent('check', 'Check the invoice [steps=1]'),
    gate('review', 'Pay invoice 42?'),
    agent('pay', 'Pay [steps=1]'),
  ]);

async function waitForGate(id: string) {
  return waitUntil(`the gate of ${id} in the inbox`, async () => {
    const { items } = (await (await ops.fetch('/api/inbox')).json()) as {
      items: Array<{ processId: string; requestId: string }>;
    };
    return items.find((item) => item.processId === id);
  });
}

test('a wrong token cannot sign in; a POST without the session or the CSRF token is refused and changes nothing', async () => {
  const handle = await startChain(s.stack, gateChain(), 'auth');
  await waitForGate(handle.workflowId);

  const stranger = new HttpSession(s.serve.url);
  const wrong = await stranger.fetch('/signin', { method: 'POST', form: { token: `${TOKEN}x` } });
  assert.equal(wrong.status, 401);
  assert.equal(stranger.cookie, '', 'no session cookie for a wrong token');
  assert.equal((await stranger.fetch('/')).status, 303, 'pages send strangers to /signin');
  assert.equal((await stranger.fetch('/api/inbox')).status, 401);

  const decision = { action: 'approve', requestId: 'review' };
  const noSession = await stranger.fetch(`/api/processes/${handle.workflowId}/decisions`, {
    method: 'POST',
    json: decision,
  });
  assert.equal(noSession.status, 401);
  const noCsrf = await ops.fetch(`/api/processes/${handle.workflowId}/decisions`, {
    method: 'POST',
    json: decision,
  });
  assert.equal(noCsrf.status, 403);
  assert.match(((await noCsrf.json()) as { error: { message: string } }).error.message, /CSRF/);
  const formNoCsrf = await ops.fetch(`/processes/${handle.workflowId}/decisions`, {
    method: 'POST',
    form: { action: 'approve', requestId: 'review', csrf: 'forged' },
  });
  assert.equal(formNoCsrf.status, 403);
  const progress = (await handle.query(progressQuery)) as ChainProgress;
  assert.equal(progress.awaiting?.requestId, 'review', 'the gate still waits');

  // A bearer token works for API clients, and the decision is recorded as that operator.
  const bearer = await fetch(new URL(`/api/processes/${handle.workflowId}/decisions`, s.serve.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'approve', requestId: 'review', message: 'via API' }),
  });
  assert.equal(bearer.status, 200);
  const result = await handle.result();
  assert.equal(result.approvals[0]!.by, 'ops');
  assert.equal(result.approvals[0]!.message, 'via API');
});

test('bad input is a 4xx that names the problem, and nothing changes', async () => {
  const handle = await startChain(s.stack, { ...gateChain(), maxCostCents: 500 }, 'bad');
  await waitForGate(handle.workflowId);
  const problem = async (response: Response) => ({
    status: response.status,
    message: ((await response.json()) as { error: { message: string } }).error.message,
  });

  assert.deepEqual(await problem(await ops.fetch('/api/processes/no-such-process')), {
    status: 404,
    message: 'no process with id "no-such-process"',
  });
  assert.deepEqual(await problem(await ops.fetch('/api/nope')), {
    status: 404,
    message: 'nothing at GET /api/nope',
  });
  const malformed = await problem(
    await ops.fetch(`/api/processes/${handle.workflowId}/decisions`, {
      method: 'POST',
      json: '{"action": "approve",',
      headers: { 'x-csrf-token': ops.csrf },
    }),
  );
  assert.equal(malformed.status, 400);
  assert.match(malformed.message, /not valid JSON/);
  const badAction = await problem(
    await ops.post(`/api/processes/${handle.workflowId}/decisions`, { action: 'ok', requestId: 'review' }),
  );
  assert.equal(badAction.status, 400);
  assert.match(badAction.message, /"action" must be "approve" or "reject", got "ok"/);
  const low = await problem(await ops.post(`/api/processes/${handle.workflowId}/budget`, { maxCostUsd: 1 }));
  assert.equal(low.status, 422);
  assert.match(low.message, /refused the budget/);
  const stale = await problem(
    await ops.post(`/api/processes/${handle.workflowId}/decisions`, {
      action: 'approve',
      requestId: 'evt_gone',
    }),
  );
  assert.equal(stale.status, 409);
  assert.match(stale.message, /pause evt_gone .* is over/);
  const progress = (await handle.query(progressQuery)) as ChainProgress;
  assert.equal(progress.awaiting?.requestId, 'review');
  assert.equal(progress.maxCostUsd, 5);

  // The pause that is over: decided once, then again.
  assert.equal(
    (
      await ops.post(`/api/processes/${handle.workflowId}/decisions`, {
        action: 'reject',
        requestId: 'review',
      })
    ).status,
    200,
  );
  const again = await problem(
    await ops.post(`/api/processes/${handle.workflowId}/decisions`, {
      action: 'approve',
      requestId: 'review',
    }),
  );
  assert.equal(again.status, 409);
  const result = await handle.result();
  assert.equal(result.status, 'failed');
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.action, 'reject');
});

test('a signed link opened twice decides once; expired, forged, altered and stale links change nothing', async () => {
  const handle = await startChain(s.stack, gateChain(), 'link');
  await waitForGate(handle.workflowId);
  const base = new URL(s.serve.url);
  const future = Math.floor(Date.now() / 1000) + 3600;
  const link = { workflowId: handle.workflowId, requestId: 'review', by: 'ana', expiresAt: future };
  const approve = new URL(linkUrl(base, { ...link, action: 'approve' }, LINK_SECRET));
  const visitor = new HttpSession(s.serve.url);

  // A GET (a mail client's prefetch) shows the question and decides nothing.
  for (let i = 0; i < 2; i += 1) {
    const page = await visitor.fetch(approve.pathname + approve.search);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Pay invoice 42\?[\s\S]*Confirm: approve/);
  }
  assert.equal(((await handle.query(progressQuery)) as ChainProgress).awaiting?.requestId, 'review');

  const refused = async (url: URL, status: number, pattern: RegExp) => {
    const get = await visitor.fetch(url.pathname + url.search);
    assert.equal(get.status, status, url.search);
    assert.match(await get.text(), pattern);
    const post = await visitor.fetch('/link', { method: 'POST', form: Object.fromEntries(url.searchParams) });
    assert.equal(post.status, status);
  };
  const expired = new URL(
    linkUrl(base, { ...link, action: 'approve', expiresAt: Math.floor(Date.now() / 1000) - 1 }, LINK_SECRET),
  );
  await refused(expired, 410, /expired/);
  const forged = new URL(
    linkUrl(base, { ...link, action: 'approve' }, 'another-secret-of-the-same-length-xx'),
  );
  await refused(forged, 403, /not one this server signed/);
  const altered = new URL(approve);
  altered.searchParams.set('a', 'reject');
  await refused(altered, 403, /changed/);
  const cut = new URL(approve);
  cut.searchParams.delete('s');
  await refused(cut, 400, /cut short/);
  assert.equal(((await handle.query(progressQuery)) as ChainProgress).awaiting?.requestId, 'review');

  const form = Object.fromEntries(approve.searchParams);
  const [first, second] = await Promise.all([
    visitor.fetch('/link', { method: 'POST', form: { ...form, message: 'from the link' } }),
    visitor.fetch('/link', { method: 'POST', form }),
  ]);
  assert.deepEqual([first.status, second.status].sort(), [200, 409]);
  const third = await visitor.fetch('/link', { method: 'POST', form });
  assert.equal(third.status, 409);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.approvals.length, 1);
  assert.equal(result.approvals[0]!.by, 'ana (signed link)');

  // The reject link of the same pause is stale now: a clear page, nothing changes.
  const reject = new URL(linkUrl(base, { ...link, action: 'reject' }, LINK_SECRET));
  await refused(reject, 409, /pause is over/);
});

test('every page and API answer of a process whose task uses a secret is free of its value', async () => {
  const handle = await startChain(
    s.stack,
    chain([
      agent(
        'login',
        'Log in at https://bank.example/login?pw={{secret.BANK}} and pay echo-question [steps=3] [human@2]',
      ),
    ]),
    'secret',
  );
  const child = `${handle.workflowId}/login`;
  const item = await waitUntil('the run to wait', async () => {
    const { items } = (await (await ops.fetch('/api/inbox')).json()) as {
      items: Array<{ processId: string; requestId: string; reason: string }>;
    };
    return items.find((candidate) => candidate.processId === handle.workflowId);
  });
  assert.match(item.reason, /\[secret BANK\]/, 'the worker masked it');
  // The run's first step opened the URL with the secret in it: serve read it from the runs API and masked it.
  const recentUrl = (item as unknown as { recent?: Array<{ action?: { url?: string } }> }).recent?.[0]?.action
    ?.url;
  assert.equal(recentUrl, 'https://bank.example/login?pw=[secret BANK]');
  const link = new URL(
    linkUrl(
      new URL(s.serve.url),
      {
        workflowId: child,
        requestId: item.requestId,
        action: 'approve',
        by: 'x',
        expiresAt: Math.floor(Date.now() / 1000) + 60,
      },
      LINK_SECRET,
    ),
  );
  const paths = [
    '/',
    '/api/inbox',
    `/processes/${encodeURIComponent(handle.workflowId)}`,
    `/api/processes/${encodeURIComponent(handle.workflowId)}`,
    `/processes/${encodeURIComponent(child)}`,
    `/api/processes/${encodeURIComponent(child)}`,
    `/processes/${encodeURIComponent(handle.workflowId)}/cancel`,
    link.pathname + link.search,
  ];
  for (const path of paths) {
    const response = await ops.fetch(path);
    assert.equal(response.status, 200, path);
    const text = await response.text();
    assert.ok(!text.includes(SECRET), `${path} shows the secret`);
    assert.ok(!text.includes(s.stack.emulator.apiKey), `${path} shows the API key`);
  }
  await ops.post(`/api/processes/${encodeURIComponent(handle.workflowId)}/decisions`, {
    action: 'approve',
    requestId: item.requestId,
  });
  await handle.result();
  for (const path of paths.slice(0, 6)) {
    const text = await (await ops.fetch(path)).text();
    assert.ok(!text.includes(SECRET), `${path} shows the secret after the end`);
  }
  // The process's event stream carries the run's own events: the step that opened the URL, masked.
  const events = await (
    await ops.fetch(`/api/processes/${encodeURIComponent(handle.workflowId)}/events`)
  ).text();
  assert.ok(events.includes('"type":"process_finished"'));
  assert.ok(events.includes('pw=[secret BANK]'), 'the step event is there, masked');
  assert.ok(!events.includes(SECRET), 'the event stream shows the secret');
  assert.ok(!s.logs.join('\n').includes(SECRET));
  assert.ok(!s.logs.join('\n').includes(TOKEN));
  assert.ok(received.every((message) => !JSON.stringify(message).includes(SECRET)));
});

test('the notification receiver gets exactly one message per pause, with signed links that work', async () => {
  const handles = await Promise.all([1, 2].map(() => startChain(s.stack, gateChain(), 'notify')));
  const ids = handles.map((handle) => handle.workflowId);
  const messagesFor = (id: string) => received.filter((message) => message.body.text.includes(`(${id})`));
  await waitUntil('a notification for each pause', () => ids.every((id) => messagesFor(id).length >= 1));
  const [message] = messagesFor(ids[0]!);
  assert.match(message!.body.text, /waits for a person: Pay invoice 42\?/);
  const buttons = JSON.stringify(message!.body.blocks);
  const approveUrl = /"url":"([^"]*a=approve[^"]*)"/.exec(buttons)?.[1];
  assert.ok(approveUrl, 'the message carries the signed approve link');
  const url = new URL(approveUrl);
  const visitor = new HttpSession(s.serve.url);
  const decided = await visitor.fetch('/link', {
    method: 'POST',
    form: Object.fromEntries(url.searchParams),
  });
  assert.equal(decided.status, 200);
  await ops.post(`/api/processes/${ids[1]}/decisions`, { action: 'approve', requestId: 'review' });
  await Promise.all(handles.map((handle) => handle.result()));
  // The inbox has been read again after both pauses ended: still one message each.
  await waitUntil('the inbox to be empty of them', async () => {
    const { items } = (await (await ops.fetch('/api/inbox')).json()) as {
      items: Array<{ processId: string }>;
    };
    return items.every((item) => !ids.includes(item.processId));
  });
  for (const id of ids) assert.equal(messagesFor(id).length, 1, id);
  assert.equal(failFirst, false, 'the first attempt was refused and retried');
});

test('`coasty-temporal link` prints signed URLs that serve accepts; without COASTY_LINK_SECRET it is exit 2', async () => {
  const handle = await startChain(s.stack, gateChain(), 'cli-link');
  await waitForGate(handle.workflowId);
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: testServerAddress(),
    COASTY_SERVE_URL: s.serve.url,
    COASTY_LINK_SECRET: LINK_SECRET,
  };
  const printed = await runCli(['link', handle.workflowId, '--ttl', '30m', '--by', 'bo', '--json'], { env });
  assert.equal(printed.code, 0, printed.stderr);
  const links = JSON.parse(printed.stdout) as { requestId: string; approve: string; reject: string };
  assert.equal(links.requestId, 'review');
  const approve = new URL(links.approve);
  const visitor = new HttpSession(s.serve.url);
  assert.equal((await visitor.fetch(approve.pathname + approve.search)).status, 200);
  const decided = await visitor.fetch('/link', {
    method: 'POST',
    form: Object.fromEntries(approve.searchParams),
  });
  assert.equal(decided.status, 200);
  const result = await handle.result();
  assert.equal(result.approvals[0]!.by, 'bo (signed link)');

  const noSecret = await runCli(['link', handle.workflowId], { env: { ...env, COASTY_LINK_SECRET: '' } });
  assert.equal(noSecret.code, 2);
  assert.match(noSecret.stderr, /set COASTY_LINK_SECRET/);
  const over = await runCli(['link', handle.workflowId], { env });
  assert.equal(over.code, 1);
  assert.match(over.stderr, /is not waiting for a person/);
});
