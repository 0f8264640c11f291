import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { behaviourFromRules, DEFAULT_RULES, planRun, stepAt } from '../../emulator/agent';
import { resolveConfig } from '../../emulator/config';
import { call, createRun, emulator, waitFor, waitForEnd, waitForStatus } from './helpers';

describe('agent rules (no server)', () => {
  const config = resolveConfig();

  test('a result reads as a report: the first sentence, no directive, no quoted earlier result inside', () => {
    const download = planRun(
      'Open the supplier portal at https://portal.example.com and download the March invoice [steps=6]',
      config,
      1,
    ).result;
    assert.match(
      download,
      /^Done in 6 steps: Open the supplier portal at https:\/\/portal\.example\.com and download the March invoice\. Confirmation REF-\d{5}\.$/,
    );
    const check = planRun(
      `Check it against PO-1042 and report any difference. The invoice: "${download}" [steps=5]`,
      config,
      2,
    ).result;
    assert.match(
      check,
      /^Done in 5 steps: Check it against PO-1042 and report any difference\. Confirmation REF-\d{5}\.$/,
    );
    assert.equal(check.split('Done in').length, 2, 'one report, not one inside another');
    const long = planRun(`Read ${'the long page '.repeat(20)}[steps=2]`, config, 3).result;
    assert.match(
      long,
      /^Done in 2 steps: Read the long page( (the|long|page))*\.\.\. Confirmation REF-\d{5}\.$/,
      'cut at a word',
    );
    assert.ok(long.length < 180);
    assert.match(
      planRun('Is it paid? Then stop [steps=1]', config, 4).result,
      /^Done in 1 steps: Is it paid\? Confirmation/,
    );
  });

  test('holds: sorted, and the run is long enough to reach the last one (steps + 1: before its end)', () => {
    const plan = planRun('Wait [steps=3] [hold@9,2]', config, 1);
    assert.deepEqual(plan.holdAt, [2, 9]);
    assert.equal(plan.steps, 8);
    assert.deepEqual(planRun('No hold [steps=3]', config, 1).holdAt, []);
  });

  test('directives and the approval words', () => {
    assert.deepEqual(behaviourFromRules('Upload it [human@3]', DEFAULT_RULES), { humanAt: [3] });
    assert.deepEqual(behaviourFromRules('Two pauses [human@2,5]', DEFAULT_RULES), { humanAt: [2, 5] });
    assert.deepEqual(behaviourFromRules('[human@2] then [human@4]', DEFAULT_RULES), { humanAt: [2, 4] });
    assert.deepEqual(behaviourFromRules('Get the manager to approve it', DEFAULT_RULES), { humanAt: [3] });
    assert.deepEqual(behaviourFromRules('Needs APPROVAL first', DEFAULT_RULES), { humanAt: [3] });
    assert.deepEqual(behaviourFromRules('Download the approved list', DEFAULT_RULES), {});
    assert.deepEqual(behaviourFromRules('Wait [hold@3] [hold@9,12]', DEFAULT_RULES), { holdAt: [3, 9, 12] });
    assert.deepEqual(behaviourFromRules('x [fail@4]', DEFAULT_RULES), { failAt: 4 });
    assert.deepEqual(behaviourFromRules('x [steps=9] [forever] [pace=0]', DEFAULT_RULES), {
      steps: 9,
      forever: true,
      paceMs: 0,
    });
    assert.deepEqual(
      behaviourFromRules('approve at 5 [human@5]', DEFAULT_RULES),
      { humanAt: [5] },
      'the directive wins',
    );
    assert.deepEqual(behaviourFromRules('plain task', DEFAULT_RULES), {});
  });

  test('a plan: steps cover every pause and failure; defaults make one approval for an approval task', () => {
    const plan = planRun('Submit the expense report for approval', config, 1);
    assert.deepEqual(plan.humanAt, [3]);
    assert.ok(plan.steps >= 4 && plan.steps <= 8);
    assert.equal(plan.paceMs, 300);
    assert.equal(plan.failAt, null);
    assert.equal(planRun('x [steps=2] [human@6]', config, 1).steps, 6);
    assert.equal(planRun('x [steps=2] [fail@7]', config, 1).steps, 7);
    assert.deepEqual(
      planRun('Submit for approval', config, 1, { humanAt: [], steps: 3 }).humanAt,
      [],
      'a script overrides rules',
    );
  });

  test('configured rules come before the defaults and can use capture groups', () => {
    const custom = resolveConfig({
      agent: {
        rules: [
          { pattern: 'invoice (\\d)', behaviour: { steps: '$1', result: 'Invoice filed' } },
          {
            pattern: 'risky',
            flags: 'i',
            behaviour: { failAt: 2, error: { type: 'site_down', message: 'portal down' } },
          },
        ],
      },
    });
    const plan = planRun('File invoice 5', custom, 1);
    assert.equal(plan.steps, 5);
    assert.equal(plan.result, 'Invoice filed');
    const risky = planRun('RISKY job', custom, 1);
    assert.equal(risky.failAt, 2);
    assert.deepEqual(risky.error, { type: 'site_down', message: 'portal down' });
    const noDefaults = resolveConfig({ agent: { defaultRules: false } });
    assert.deepEqual(planRun('approve [human@2]', noDefaults, 1).humanAt, []);
  });

  test('deterministic for a seed, different across seeds', () => {
    const a = Array.from({ length: 20 }, (_, i) => stepAt('Do the thing', 42, i + 1));
    const b = Array.from({ length: 20 }, (_, i) => stepAt('Do the thing', 42, i + 1));
    const c = Array.from({ length: 20 }, (_, i) => stepAt('Do the thing', 43, i + 1));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const types = new Set(a.map((s) => s.action.type));
    assert.ok(types.size >= 4, `varied actions: ${[...types].join(',')}`);
  });

  test('invalid rule patterns are refused with the pattern named', () => {
    assert.throws(
      () => resolveConfig({ agent: { rules: [{ pattern: '([', behaviour: { steps: 2 } }] } }),
      /not a valid regex/,
    );
  });
});

describe('agent behaviour over HTTP', () => {
  test('approval task: exactly one human pause, approve continues with a running event', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Upload the invoice and wait for approval' });
    const paused = await waitForStatus(emu, run.id, 'awaiting_human');
    assert.equal(paused.steps, 2);
    assert.ok(paused.awaiting_human);
    assert.equal(typeof paused.awaiting_human.reason, 'string');
    const events = await emu.admin.runEvents(run.id);
    const ask = events[events.length - 1];
    assert.equal(ask?.type, 'awaiting_human');
    assert.equal(ask?.status, 'awaiting_human');
    assert.deepEqual(Object.keys(ask?.payload ?? {}).sort(), ['proposed_action', 'reason', 'requested_at']);
    assert.equal(ask?.payload?.requested_at, paused.awaiting_human.since);
    const resumed = await call(emu, `/v1/runs/${run.id}/resume`, {
      body: { action: 'approve', message: 'looks right' },
    });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.json.status, 'running');
    assert.equal(resumed.json.awaiting_human, null);
    const done = await waitForEnd(emu, run.id);
    assert.equal(done.status, 'succeeded');
    const all = await emu.admin.runEvents(run.id);
    assert.equal(all.filter((e) => e.type === 'awaiting_human').length, 1);
    const after = all[events.length];
    assert.equal(after?.type, 'running');
    assert.deepEqual(after?.payload, { resumed_by: 'approve', message: 'looks right' });
    const step3 = all.find((e) => e.step_id === 'step_3');
    assert.deepEqual(step3?.action, ask?.payload?.proposed_action, 'the approved action is the one taken');
  });

  test('reject ends the run failed with rejected_by_human', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'x [human@1]' });
    await waitForStatus(emu, run.id, 'awaiting_human');
    const reply = await call(emu, `/v1/runs/${run.id}/resume`, {
      body: { action: 'reject', message: 'wrong vendor' },
    });
    assert.equal(reply.json.status, 'failed');
    assert.deepEqual(reply.json.error, { type: 'rejected_by_human', message: 'wrong vendor' });
    const events = await emu.admin.runEvents(run.id);
    assert.deepEqual(events[events.length - 1]?.payload, {
      error: { type: 'rejected_by_human', message: 'wrong vendor' },
    });
    assert.equal((await call(emu, `/v1/runs/${run.id}/resume`, { body: { action: 'approve' } })).status, 409);
  });

  test('on_awaiting_human fail and cancel end the run without a pause', async (t) => {
    const emu = await emulator(t);
    const failing = await createRun(emu, { task: 'x [human@2]', on_awaiting_human: 'fail' });
    const cancelling = await createRun(emu, {
      task: 'x [human@2]',
      on_awaiting_human: 'cancel',
      machine_id: 'm-2',
    });
    const failed = await waitForEnd(emu, failing.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.type, 'human_required');
    assert.equal(failed.steps, 1);
    const cancelled = await waitForEnd(emu, cancelling.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.error, null);
    for (const id of [failing.id, cancelling.id]) {
      const types = (await emu.admin.runEvents(id)).map((e) => e.type);
      assert.ok(!types.includes('awaiting_human'));
    }
    const events = await emu.admin.runEvents(cancelling.id);
    assert.match(String(events[events.length - 1]?.payload?.reason), /on_awaiting_human is "cancel"/);
  });

  test('[fail@k] fails at step k (k-1 steps billed) with an error in run and event', async (t) => {
    const emu = await emulator(t);
    const run = await createRun(emu, { task: 'Broken site [fail@3]' });
    const done = await waitForEnd(emu, run.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.steps, 2);
    assert.equal(done.cost_usd, 0.1);
    assert.equal(done.error?.type, 'agent_error');
    const events = await emu.admin.runEvents(run.id);
    assert.deepEqual(events[events.length - 1]?.payload, { error: done.error });
  });

  test('max_steps: a run that needs more ends timed_out at the budget; one that fits succeeds', async (t) => {
    const emu = await emulator(t);
    const forever = await createRun(emu, { task: 'Loop [forever]', max_steps: 5 });
    const fits = await createRun(emu, { task: 'Small [steps=4]', max_steps: 4, machine_id: 'm-2' });
    const timedOut = await waitForEnd(emu, forever.id);
    assert.equal(timedOut.status, 'timed_out');
    assert.equal(timedOut.steps, 5);
    assert.equal(timedOut.cost_usd, 0.25);
    assert.equal(timedOut.error?.type, 'max_steps_exceeded');
    const events = await emu.admin.runEvents(forever.id);
    assert.deepEqual(events[events.length - 1]?.payload, { error: timedOut.error });
    assert.equal((await waitForEnd(emu, fits.id)).status, 'succeeded');
  });

  test('deadline_seconds: the run ends timed_out, also while waiting for a person', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 20 } } });
    const run = await createRun(emu, { task: 'Slow [forever]', deadline_seconds: 0.2 });
    const paused = await createRun(emu, {
      task: 'Paused [human@1]',
      deadline_seconds: 0.1,
      machine_id: 'm-2',
    });
    const done = await waitForEnd(emu, run.id);
    assert.equal(done.status, 'timed_out');
    assert.equal(done.error?.type, 'deadline_exceeded');
    assert.ok(done.steps > 0);
    const pausedDone = await waitForEnd(emu, paused.id);
    assert.equal(pausedDone.status, 'timed_out');
    assert.equal(pausedDone.awaiting_human, null);
  });

  test('billing: cost_usd is steps x 0.05 with two decimals, and counters agree', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 0 } } });
    const runs = await Promise.all(
      [3, 7, 13].map((n, i) => createRun(emu, { task: `b [steps=${n}]`, machine_id: `m-${i + 1}` })),
    );
    const done = await Promise.all(runs.map((r) => waitForEnd(emu, r.id)));
    assert.deepEqual(
      done.map((r) => r.cost_usd),
      [0.15, 0.35, 0.65],
    );
    const counters = await emu.admin.counters();
    assert.equal(counters.steps_billed, 23);
    assert.equal(counters.cost_usd_billed, 1.15);
  });

  test('the same task on the same seed behaves the same in a new emulator', async (t) => {
    const trace = async (): Promise<unknown[]> => {
      const emu = await emulator(t, { config: { seed: 99 } });
      const run = await createRun(emu, { task: 'Reproducible' });
      await waitForEnd(emu, run.id);
      return (await emu.admin.runEvents(run.id)).map((e) => [
        e.type,
        e.step_id,
        e.action,
        e.observation,
        e.payload,
      ]);
    };
    assert.deepEqual(await trace(), await trace());
  });

  test('steps arrive at the configured pace', async (t) => {
    const emu = await emulator(t, { config: { agent: { paceMs: 40 } } });
    const run = await createRun(emu, { task: 'Paced [steps=4]' });
    await waitForEnd(emu, run.id);
    const times = (await emu.admin.runEvents(run.id))
      .filter((e) => e.type === 'step')
      .map((e) => Date.parse(e.timestamp));
    for (let i = 1; i < times.length; i++) assert.ok((times[i] ?? 0) - (times[i - 1] ?? 0) >= 35);
    await waitFor('counters', async () => (await emu.admin.counters()).steps_billed === 4);
  });
});
