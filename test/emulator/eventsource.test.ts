import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import type { RunEvent } from '../../api/types';
import type { RunningEmulator } from '../../emulator/index';
import { call, createRun, emulator, waitFor, waitForStatus } from './helpers';

// The off-the-shelf client, with the bearer key added through its fetch option.
function open(
  emu: RunningEmulator,
  runId: string,
): { es: EventSource; received: RunEvent[]; lastIds: string[] } {
  const received: RunEvent[] = [];
  const lastIds: string[] = [];
  const es = new EventSource(`${emu.baseUrl}/runs/${runId}/events`, {
    fetch: (input, init) => {
      lastIds.push(String((init.headers as Record<string, string>)['Last-Event-ID'] ?? ''));
      return fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${emu.apiKey}` } });
    },
  });
  es.onmessage = (message) => {
    const event = JSON.parse(message.data) as RunEvent;
    assert.equal(message.lastEventId, event.id);
    received.push(event);
  };
  return { es, received, lastIds };
}

const QUICK_RETRY = { retryMs: 5, retryJitterMs: 10 };

describe('npm eventsource against the emulator', () => {
  test('reconnects after dropped connections and receives every event exactly once, then stops on 204', async (t) => {
    const emu = await emulator(t, {
      config: { agent: { paceMs: 2 }, stream: QUICK_RETRY, faults: { stream: { dropAfterEvents: 4 } } },
    });
    const run = await createRun(emu, { task: 'Followed [steps=25]' });
    const { es, received, lastIds } = open(emu, run.id);
    t.after(() => es.close());
    await waitFor('the client to stop after 204', () => es.readyState === EventSource.CLOSED, 30000);
    const truth = await emu.admin.runEvents(run.id);
    assert.deepEqual(received, truth);
    assert.equal(new Set(received.map((e) => e.id)).size, received.length);
    const counters = await emu.admin.counters();
    assert.ok(counters.streams_dropped >= 6, `dropped ${counters.streams_dropped} times`);
    assert.equal(lastIds[0], '', 'the first request has no Last-Event-ID');
    assert.equal(
      lastIds[lastIds.length - 1],
      truth[truth.length - 1]?.id,
      'the last reconnect asks after the terminal event',
    );
    assert.equal(counters.reconnects_with_last_event_id, lastIds.length - 1);
  });

  test('random drops and resent events: the client still sees each event once when it dedupes', async (t) => {
    const emu = await emulator(t, {
      config: {
        agent: { paceMs: 1 },
        stream: QUICK_RETRY,
        faults: { seed: 5, stream: { dropProbability: 0.2, resendOnResume: 2 } },
      },
    });
    const run = await createRun(emu, { task: 'Chaotic [steps=40] [human@20]' });
    const { es, received } = open(emu, run.id);
    t.after(() => es.close());
    await waitForStatus(emu, run.id, 'awaiting_human');
    await waitFor('the pause event', () => received.some((e) => e.type === 'awaiting_human'));
    await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve' } });
    await waitFor('the client to stop after 204', () => es.readyState === EventSource.CLOSED, 30000);
    const unique = new Map(received.map((e) => [e.id, e]));
    assert.ok(received.length > unique.size, 'resent events reached the client');
    assert.deepEqual([...unique.values()], await emu.admin.runEvents(run.id));
  });
});
