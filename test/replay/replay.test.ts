// Workflow code is forever: every history recorded from real runs (test/replay/record.ts) must replay
// with today's workflow code, or workflows open across a deploy would fail every task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../../worker';
import { tracingInterceptorsModule, tracingSinks } from '../../worker/tracing';
import '../helpers/temporal';
import { testWorkflowBundle } from '../helpers/workflow-bundle';

const dir = new URL('./histories/', import.meta.url);
// Replay needs each history's own workflow id (child ids are built from it).
const workflowIds: Record<string, string> = JSON.parse(
  readFileSync(new URL('workflow-ids.json', dir), 'utf8'),
);
const fixtures = readdirSync(dir)
  .filter((name) => name in workflowIds)
  .sort()
  .map((name) => ({
    name,
    workflowId: workflowIds[name]!,
    history: JSON.parse(readFileSync(new URL(name, dir), 'utf8')),
  }));

// v1 histories were recorded by workers without the tracing interceptors, later ones with them: the
// interceptors defer an update's completion by a turn, so a history recorded with them replays only
// with them, as every bundle since carries them.
const beforeTracing = fixtures.filter((fixture) => fixture.name.startsWith('v1-'));

test('every history recorded before the tracing interceptors replays with the current workflow code', async () => {
  assert.ok(beforeTracing.length >= 8, `fixtures found: ${beforeTracing.length}`);
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, beforeTracing)) {
    if (result.error) failures.push(`${result.runId} (${result.workflowId}): ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

test('every recorded history replays with the tracing interceptors that every bundle now carries', async () => {
  assert.ok(fixtures.length > beforeTracing.length, 'a history recorded with the interceptors is among them');
  const failures: string[] = [];
  // The test run's bundle is this same code with the same interceptors: no second bundling.
  const bundle = testWorkflowBundle();
  const options = {
    ...(bundle
      ? { workflowBundle: bundle }
      : { workflowsPath, interceptors: { workflowModules: [tracingInterceptorsModule] } }),
    sinks: tracingSinks(undefined),
  };
  for await (const result of Worker.runReplayHistories(options, fixtures)) {
    if (result.error) failures.push(`${result.runId} (${result.workflowId}): ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

test('a workflow whose commands were reordered fails the replay (the test above can fail)', async () => {
  const paused = fixtures.find((fixture) => fixture.name.endsWith('agent-run-pause.json'))!;
  const reordered = fileURLToPath(new URL('./fixtures/reordered-workflows.ts', import.meta.url));
  await assert.rejects(
    Worker.runReplayHistory({ workflowsPath: reordered }, paused.history, paused.workflowId),
    (error: Error) => error instanceof DeterminismViolationError || /[Nn]ondeterminism/.test(error.message),
  );
});
