// resumeRun retried after a lost answer, when the run already waits at a second pause (audit B4).
// The retry uses a second API key: the emulator keeps idempotency per key, so this is a server on
// which Idempotency-Key (Part B of docs/api.md) does not save us, and only the pause's `since` does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, isAtPause } from '../../activities';
import type { ResumeRunInput } from '../../activities/types';
import { RunsClient } from '../../api/runs-client';
import type { Run } from '../../api/types';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { waitUntil } from '../helpers/wait';

const SECOND_KEY = 'sk_test_second_key_0123456789';
let emulator: RunningEmulator;
let first: RunsClient;
let second: RunsClient;
before(async () => {
  emulator = await startEmulator({ config: { machines: 4, apiKeys: [SECOND_KEY], agent: { paceMs: 5 } } });
  first = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });
  second = new RunsClient({ baseUrl: emulator.baseUrl, apiKey: SECOND_KEY });
});
after(async () => {
  await first?.close();
  await second?.close();
  await emulator?.stop();
});

function resumeAt(client: RunsClient, attempt: number, input: ResumeRunInput): Promise<void> {
  return new MockActivityEnvironment({ attempt }).run((): Promise<void> =>
    createActivities({ client, env: {} }).resumeRun(input),
  );
}

async function pausedRun(task: string, machine: string): Promise<Run> {
  const created = await first.createRun({ machine_id: machine, task });
  return waitUntil('the first pause', async () => {
    const run = (await emulator.admin.run(created.id)).run;
    return run.status === 'awaiting_human' ? run : undefined;
  });
}

test('a retry after a lost answer does not answer the second pause', async () => {
  const paused = await pausedRun('Two pauses [steps=6] [human@2,4]', 'm-1');
  const input: ResumeRunInput = {
    runId: paused.id,
    action: 'approve',
    idempotencyKey: `b4/${paused.id}/resume/1`,
    pauseSince: paused.awaiting_human!.since,
  };
  await emulator.admin.setFaults({ lostResponses: { rate: 1, endpoints: ['resume'] } });
  const lost = await resumeAt(first, 1, input).then(
    () => assert.fail('the answer was to be lost'),
    (error: unknown) => error,
  );
  assert.ok(lost instanceof ApplicationFailure && !lost.nonRetryable, String(lost));
  await emulator.admin.clearFaults();
  const second_pause = await waitUntil('the second pause', async () => {
    const run = (await emulator.admin.run(paused.id)).run;
    return run.status === 'awaiting_human' && run.awaiting_human?.since !== input.pauseSince
      ? run
      : undefined;
  });

  await resumeAt(second, 2, input); // the activity's retry
  const now = (await emulator.admin.run(paused.id)).run;
  assert.equal(now.status, 'awaiting_human', 'the second pause still waits for a person');
  assert.equal(now.awaiting_human?.since, second_pause.awaiting_human?.since);
  assert.equal(now.steps, second_pause.steps);
});

test('a retry whose first attempt never reached the server still resumes the pause', async () => {
  const paused = await pausedRun('One pause [steps=3] [human@2]', 'm-2');
  const input: ResumeRunInput = {
    runId: paused.id,
    action: 'approve',
    idempotencyKey: `b4/${paused.id}/resume/1`,
    pauseSince: paused.awaiting_human!.since,
  };
  await resumeAt(second, 2, input);
  const done = await waitUntil('the run to end', async () => {
    const run = (await emulator.admin.run(paused.id)).run;
    return run.status === 'succeeded' ? run : undefined;
  });
  assert.equal(done.steps, 3);
});

test('isAtPause compares instants, so formats of the same time match', () => {
  const run = {
    status: 'awaiting_human',
    awaiting_human: { reason: 'r', since: '2025-01-01T00:00:00.000Z' },
  } as Run;
  assert.equal(isAtPause(run, '2025-01-01T00:00:00Z'), true);
  assert.equal(isAtPause(run, '2025-01-01T00:00:01.000Z'), false);
  assert.equal(isAtPause(run, undefined), true);
  assert.equal(isAtPause({ ...run, status: 'running', awaiting_human: null }, '2025-01-01T00:00:00Z'), false);
});
