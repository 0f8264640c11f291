// One event stream per process (GET /api/processes/{id}/events): a chain with three runs, a paused
// run and a gate, followed while it runs by the npm `eventsource` client (its connection cut every few
// events and resumed by cursor) and by headless Chromium's EventSource; resumed from every cursor
// after the end; refused without a session, for an unknown cursor and for a stranger's id; twenty
// followers of one batch. The real dev server, emulator, worker and serve.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { chromium, type Browser } from 'playwright-core';
import { RunsClient } from '../../api/runs-client';
import type { RunEvent } from '../../api/types';
import { runBatch } from '../../workflows/run-batch';
import { batch } from '../batch/specs';
import { agent, chain, gate } from '../chain/specs';
import { waitUntil } from '../helpers/wait';
import { HttpSession, startChain, startServeStack, type ServeStack } from './helpers';

const TOKEN = 'events-operator-token-0123456789';
const LINK_SECRET = 'events-link-secret-0123456789abcdef';
type Event = {
  id: string;
  type: string;
  run_id?: string;
  run_event_id?: string;
  step?: string;
  item?: string;
};

let s: ServeStack;
let me: HttpSession;
let runs: RunsClient;
let browser: Browser;
before(async () => {
  s = await startServeStack({
    label: 'serve-events',
    runs: true,
    env: { COASTY_SERVE_TOKENS: `ann=${TOKEN}`, COASTY_LINK_SECRET: LINK_SECRET },
  });
  me = await HttpSession.signIn(s.serve.url, TOKEN);
  runs = new RunsClient({ baseUrl: s.stack.emulator.baseUrl, apiKey: s.stack.emulator.apiKey });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
});
after(async () => {
  await browser?.close();
  await runs?.close();
  await s?.stop();
});

const eventsPath = (id: string) => `/api/processes/${encodeURIComponent(id)}/events`;

/** Follows with the npm client, closing the connection after every `cut` events and resuming by cursor. */
function followWithCuts(id: string, cut: number) {
  const seen: Event[] = [];
  const finished = new Promise<void>((resolve, reject) => {
    let current: EventSource | undefined;
    const open = () => {
      const last = seen.at(-1)?.id;
      const url = new URL(eventsPath(id), s.serve.url);
      if (last) url.searchParams.set('last_event_id', last);
      let sinceOpen = 0;
      const source = new EventSource(url, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, cookie: me.cookie } }),
      });
      current = source;
      source.onmessage = (message) => {
        // Messages of the same chunk may still arrive after close(): the cut one's are not ours.
        if (current !== source) return;
        const event = JSON.parse(message.data) as Event;
        assert.equal(event.id, message.lastEventId);
        seen.push(event);
        if (event.type === 'process_finished') {
          source.close();
          return resolve();
        }
        if (++sinceOpen === cut) {
          source.close();
          open();
        }
      };
      source.onerror = (error) => {
        if (source.readyState === EventSource.CLOSED && current === source)
          reject(new Error(`stream error: ${error.message}`));
      };
    };
    open();
  });
  return { seen, finished };
}

/** Reads the whole stream with fetch (after the end it ends by itself), from `lastEventId` if given. */
async function readAll(id: string, lastEventId?: string, headers: Record<string, string> = {}) {
  const response = await me.fetch(eventsPath(id), {
    headers: {
      accept: 'text/event-stream',
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      ...headers,
    },
  });
  const text = response.status === 200 ? await response.text() : '';
  const events = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Event);
  return { status: response.status, text, events };
}

async function runEventsOf(runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of runs.streamEvents(runId)) events.push(event);
  return events;
}

async function pauseOf(id: string): Promise<{ requestId: string }> {
  return waitUntil(`a pause of ${id} in the inbox`, async () => {
    const { items } = (await (await me.fetch('/api/inbox')).json()) as {
      items: Array<{ processId: string; requestId: string }>;
    };
    return items.find((item) => item.processId === id);
  });
}

let chainId = '';
let chainEvents: Event[] = [];

test('a chain with three runs, a paused run and a gate: each follower gets every event once, in order, and stops at the end', async () => {
  const handle = await startChain(
    s.stack,
    chain([
      agent('find', 'Find invoice INV-7 [steps=2]'),
      agent('check', 'Check invoice INV-7 [steps=3] [human@2]'),
      gate('review', 'Pay INV-7?'),
      agent('pay', 'Pay invoice INV-7 [steps=2]'),
    ]),
    'events-chain',
  );
  chainId = handle.workflowId;
  const npm = followWithCuts(chainId, 3);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${s.serve.url}signin`);
  await page.fill('input[name=token]', TOKEN);
  await page.click('button[type=submit]');
  await page.locator('text=signed in as').waitFor();
  const inBrowser = page.evaluate(
    (path) =>
      new Promise<Event[]>((resolve, reject) => {
        const seen: Event[] = [];
        const source = new EventSource(path);
        source.onmessage = (message) => {
          const event = JSON.parse(message.data) as Event;
          seen.push(event);
          if (event.type === 'process_finished') {
            source.close();
            resolve(seen);
          }
        };
        source.onerror = () => {
          if (source.readyState === EventSource.CLOSED) reject(new Error('EventSource closed'));
        };
      }),
    eventsPath(chainId),
  );

  // Decide only once the followers have seen each pause: they follow a live process, not a replay.
  const runPause = await pauseOf(chainId);
  await waitUntil('the npm follower at the run pause', () =>
    npm.seen.some((event) => event.type === 'awaiting_human'),
  );
  assert.equal(
    (
      await me.post(`/api/processes/${chainId}/decisions`, {
        action: 'approve',
        requestId: runPause.requestId,
      })
    ).status,
    200,
  );
  await waitUntil('the gate open', async () => {
    const pause = await pauseOf(chainId);
    return pause.requestId === 'review' ? pause : undefined;
  });
  await waitUntil('the npm follower at the gate', () =>
    npm.seen.some((event) => event.type === 'awaiting_human' && event.step === 'review'),
  );
  assert.equal(
    (
      await me.post(`/api/processes/${chainId}/decisions`, {
        action: 'approve',
        requestId: 'review',
        message: 'ok to pay',
      })
    ).status,
    200,
  );
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');

  await npm.finished;
  const browserEvents = await inBrowser;
  const ids = npm.seen.map((event) => event.id);
  assert.equal(new Set(ids).size, ids.length, 'no event twice');
  assert.deepEqual(
    ids.map((id) => Number(id.split('-')[0])),
    ids.map((_, index) => index + 1),
    'in order, no gap',
  );
  assert.deepEqual(browserEvents, npm.seen, 'Chromium got the same events');
  // The process page draws its activity list from the same stream, one line per event, as text.
  const processPage = await context.newPage();
  await processPage.goto(`${s.serve.url}processes/${encodeURIComponent(chainId)}`);
  await waitUntil('the activity list to hold every event', async () =>
    (await processPage.locator('ol.activity li').count()) === npm.seen.length ? true : undefined,
  );
  const lines = await processPage.$$eval('ol.activity li', (items) =>
    items.map((item) => item.dataset.eventId),
  );
  assert.deepEqual(lines, ids);
  await context.close();

  const types = npm.seen
    .filter((event) => !event.run_event_id)
    .map((event) => `${event.type}${event.step ? `:${event.step}` : ''}`);
  assert.deepEqual(types, [
    'process_started',
    'step_started:find',
    'run_created:find',
    'step_started:check',
    'run_created:check',
    'decision:check',
    'awaiting_human:review',
    'decision:review',
    'step_started:pay',
    'run_created:pay',
    'process_finished',
  ]);
  // Each run's events are the runs API's own, all of them, in its order.
  const runIds = npm.seen.filter((event) => event.type === 'run_created').map((event) => event.run_id!);
  assert.equal(runIds.length, 3);
  for (const runId of runIds) {
    const own = (await runEventsOf(runId)).map((event) => event.id);
    const streamed = npm.seen
      .filter((event) => event.run_id === runId && event.run_event_id)
      .map((event) => event.run_event_id);
    assert.deepEqual(streamed, own, `the events of ${runId}`);
  }
  const decision = npm.seen.find((event) => event.type === 'decision' && event.step === 'check') as Event & {
    by?: string;
  };
  assert.equal(decision.by, 'ann');
  const pauseAt = npm.seen.findIndex((event) => event.type === 'awaiting_human' && event.step === 'check');
  assert.equal(npm.seen[pauseAt + 1], decision, 'the decision right after the pause it answers');
  chainEvents = npm.seen;
});

test('after the end: every cursor resumes the exact tail; the last one gets 204; bad cursors, no session and strangers are refused', async () => {
  assert.ok(chainEvents.length > 10, 'the chain test ran first');
  const whole = await readAll(chainId);
  assert.deepEqual(whole.events, chainEvents, 'a replay after the end is the same stream');
  assert.match(whole.text, /^retry: \d+\n\n/);
  for (let index = 0; index < chainEvents.length - 1; index += 3) {
    const tail = await readAll(chainId, chainEvents[index]!.id);
    assert.deepEqual(tail.events, chainEvents.slice(index + 1), `resumed after ${chainEvents[index]!.id}`);
  }
  const viaQuery = await me.fetch(`${eventsPath(chainId)}?last_event_id=${chainEvents[4]!.id}`);
  assert.equal((await viaQuery.text()).match(/^data: /gm)?.length, chainEvents.length - 5);
  assert.equal((await readAll(chainId, chainEvents.at(-1)!.id)).status, 204, 'nothing after the end');

  const [position] = chainEvents[3]!.id.split('-');
  for (const bad of [`${position}-00000000`, '9999-deadbeef', 'not-an-id']) {
    const response = await me.fetch(eventsPath(chainId), { headers: { 'last-event-id': bad } });
    assert.equal(response.status, 400, bad);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unknown_event_id');
  }
  const anonymous = await fetch(new URL(eventsPath(chainId), s.serve.url));
  assert.equal(anonymous.status, 401);
  const bearer = await fetch(new URL(eventsPath(chainId), s.serve.url), {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(bearer.status, 200, 'an API client with an operator token');
  assert.equal((await bearer.text()).match(/^data: /gm)?.length, chainEvents.length);
  assert.equal((await me.fetch(eventsPath('nobody-has-this-process'))).status, 404);

  // A signed read link: any origin, this process only, not another.
  const link = (await (await me.post(`/api/processes/${chainId}/read-link`, {})).json()) as { path: string };
  const viaLink = await fetch(new URL(link.path, s.serve.url), {
    headers: { origin: 'https://example.org' },
  });
  assert.equal(viaLink.status, 200);
  assert.equal(viaLink.headers.get('access-control-allow-origin'), '*');
  assert.equal((await viaLink.text()).match(/^data: /gm)?.length, chainEvents.length);
  const other = link.path.replace(encodeURIComponent(chainId), 'another-process');
  assert.equal((await fetch(new URL(other, s.serve.url))).status, 403);
});

test('twenty followers of a batch of 50 items all see the same events, each item once', async () => {
  const handle = await s.stack.env.client.workflow.start(runBatch, {
    taskQueue: s.stack.taskQueue,
    workflowId: `events-batch-${process.pid}`,
    args: [batch(50, { taskTemplate: 'Verify invoice {{item.id}} [steps=2]' })],
  });
  const followers = await Promise.all(Array.from({ length: 20 }, () => readAll(handle.workflowId)));
  await handle.result();
  const [first, ...rest] = followers.map((follower) => follower.events);
  for (const events of rest) assert.deepEqual(events, first);
  const finished = first!.filter((event) => event.type === 'item_finished').map((event) => event.item);
  assert.equal(new Set(finished).size, 50);
  assert.equal(first!.filter((event) => event.type === 'run_created').length, 50);
  assert.equal(first!.at(-1)!.type, 'process_finished');
});

test('a chain that waits for its budget: budget_waiting, then budget_raised when it is raised', async () => {
  // Worst case of a run: 10 steps x 5 cents. The first run fits 55 cents; with its cost spent the second does not.
  const handle = await startChain(
    s.stack,
    chain([agent('one', 'Open the portal [steps=2]'), agent('two', 'Download the invoice [steps=2]')], {
      maxCostCents: 55,
    }),
    'events-budget',
  );
  const follower = readAll(handle.workflowId);
  await waitUntil('the chain to wait for its budget', async () => {
    const view = (await (await me.fetch(`/api/processes/${handle.workflowId}`)).json()) as {
      snapshot: { status: string };
    };
    return view.snapshot.status === 'awaiting_budget' ? true : undefined;
  });
  assert.equal((await me.post(`/api/processes/${handle.workflowId}/budget`, { maxCostUsd: 2 })).status, 200);
  assert.equal((await handle.result()).status, 'succeeded');
  const types = (await follower).events.map((event) => event.type);
  const waiting = types.indexOf('budget_waiting');
  assert.ok(waiting > types.indexOf('run_created'), types.join(' '));
  assert.equal(types[waiting + 1], 'budget_raised');
  const raised = (await follower).events[waiting + 1] as Event & { max_cost_usd?: number };
  assert.equal(raised.max_cost_usd, 2);
});

test('following a process adds nothing to its history', async () => {
  const spec = () =>
    chain([agent('one', 'Open the portal [steps=2]'), agent('two', 'Download the invoice [steps=2]')]);
  const watched = await startChain(s.stack, spec(), 'events-watched');
  const following = readAll(watched.workflowId);
  await watched.result();
  assert.equal((await following).events.at(-1)!.type, 'process_finished');
  const unwatched = await startChain(s.stack, spec(), 'events-unwatched');
  await unwatched.result();
  const historyOf = async (id: string) =>
    (await s.stack.env.client.workflow.getHandle(id).fetchHistory()).events!;
  const [a, b] = await Promise.all([historyOf(watched.workflowId), historyOf(unwatched.workflowId)]);
  console.log(`# history length: watched ${a.length} events, unwatched ${b.length}`);
  const foreign = a.filter(
    (event) =>
      event.workflowExecutionSignaledEventAttributes || event.workflowExecutionUpdateAcceptedEventAttributes,
  );
  assert.deepEqual(foreign, [], 'no signal or update from the follower');
});
