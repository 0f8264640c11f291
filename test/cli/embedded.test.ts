// The embedded stack: no TEMPORAL_ADDRESS / COASTY_BASE_URL, so the CLI runs its own dev server
// (persistent database), emulator and worker, in a temporary working directory on free ports.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isPortFree } from '../../dev/stack-ports';
import { waitUntil } from '../helpers/wait';
import { FILES } from './fixtures';

// Each command here starts a whole local stack (a dev server, the emulator, a worker that bundles the
// workflow code): a bound for a machine loaded many times over, not a pace.
const STACK_MS = 300_000;
import { killAllCli, parseJson, parseJsonLines, ROOT, runCli, spawnCli } from './helpers';
import { tempDir } from '../helpers/temp-dir';

after(() => killAllCli());

function workdir(): string {
  const dir = tempDir('coasty-embedded');
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  return dir;
}

function embeddedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COASTY_UI_PORT: '0',
    COASTY_EMULATOR_PORT: '0',
    COASTY_TEMPORAL_PORT: '0',
    COASTY_EMULATOR_PACE_MS: '10',
    NO_COLOR: '1',
    ...extra,
  };
  for (const name of [
    'TEMPORAL_ADDRESS',
    'TEMPORAL_PROFILE',
    'COASTY_BASE_URL',
    'COASTY_API_KEY',
    'COASTY_TASK_QUEUE',
  ]) {
    delete env[name];
  }
  delete env.NODE_TEST_CONTEXT;
  return env;
}

interface StackJson {
  pid: number;
  temporalAddress: string;
  uiUrl: string;
  apiBaseUrl: string;
  taskQueue: string;
}

test('`dev` runs the stack; commands from a second terminal attach to it through stack.json', async () => {
  const cwd = workdir();
  const givenKey = 'sk_given_by_the_user_0123456789';
  const env = { ...embeddedEnv(), COASTY_API_KEY: givenKey };
  const dev = spawnCli(['dev', '--json'], { env, cwd });
  const ready = JSON.parse(await dev.waitForLine(/"ready":true/, { timeoutMs: STACK_MS })) as StackJson & {
    dbFilename: string;
  };
  assert.equal(ready.pid, dev.child.pid);
  assert.match(ready.uiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.dbFilename, join(cwd, '.coasty-temporal', 'temporal.db'));
  const record = JSON.parse(readFileSync(join(cwd, '.coasty-temporal', 'stack.json'), 'utf8')) as StackJson;
  assert.equal(record.temporalAddress, ready.temporalAddress);

  const second = await runCli(['dev'], { env, cwd, timeoutMs: STACK_MS });
  assert.equal(second.code, 1, 'one stack per directory');
  assert.match(second.stderr, /A local stack runs already here/);

  const run = await runCli(['run', 'examples/quickstart.yaml', '--auto-approve', '--json'], {
    env,
    cwd,
    timeoutMs: STACK_MS,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /Starting the local stack/);
  const events = parseJsonLines(run.stdout);
  assert.equal(events[0]!.temporalAddress, ready.temporalAddress);
  assert.equal(events[0]!.webUi, `${ready.uiUrl}/namespaces/default/workflows/quickstart`);
  assert.equal(events.at(-1)!.ok, true);

  // The same process with webhook delivery: the stack's serve receives the emulator's deliveries.
  const hooked = await runCli(
    [
      'run',
      'examples/quickstart.yaml',
      '--delivery',
      'webhook',
      '--id',
      'quickstart-webhook',
      '--auto-approve',
      '--json',
    ],
    { env, cwd, timeoutMs: STACK_MS },
  );
  assert.equal(hooked.code, 0, hooked.stderr);
  assert.equal(parseJsonLines(hooked.stdout).at(-1)!.ok, true);
  const connection = await Connection.connect({ address: ready.temporalAddress });
  try {
    const client = new Client({ connection });
    const { events: history } = await client.workflow.getHandle('quickstart-webhook/download').fetchHistory();
    const signals = (history ?? []).map(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName,
    );
    assert.ok(signals.includes('coastyRunState'), 'the run was told by webhook');
    const activities = (history ?? []).map(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name,
    );
    assert.ok(!activities.includes('coasty.streamRun'), 'no stream was followed');
  } finally {
    await connection.close();
  }

  const listed = await waitUntil('quickstart in the list', async () => {
    const rows = parseJson<Array<{ workflowId: string; coastyStatus?: string }>>(
      await runCli(['list', '--json'], { env, cwd, timeoutMs: STACK_MS }),
    );
    return rows.find((row) => row.workflowId === 'quickstart' && row.coastyStatus === 'succeeded');
  });
  assert.ok(listed);

  dev.child.kill('SIGINT');
  assert.equal(await dev.exited, 0, dev.text());
  assert.ok(
    !dev.text().includes(givenKey) && !run.stdout.includes(givenKey),
    'a key the user gave is never printed',
  );
  assert.equal(existsSync(join(cwd, '.coasty-temporal', 'stack.json')), false, 'stack.json is removed');
  const [host, port] = ready.temporalAddress.split(':');
  await waitUntil('the dev server to stop', () => isPortFree(Number(port), host), 30_000);
  assert.ok(existsSync(ready.dbFilename), 'the database stays');
});

test('without a running stack, each command starts one; the process survives between them', async () => {
  const cwd = workdir();
  const env = embeddedEnv();
  const id = 'embedded-gate';
  const started = await runCli(['start', 'gate.yaml', '--id', id, '--json'], {
    env,
    cwd,
    timeoutMs: STACK_MS,
  });
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stderr, /Starting the local stack/);
  assert.match(started.stderr, /Stopping the local stack/);
  assert.equal(parseJson(started).workflowId, id);
  assert.equal(existsSync(join(cwd, '.coasty-temporal', 'stack.json')), false);

  // A new stack on the same database (and other ports) finds it, and it goes on to its gate.
  const status = await waitUntil(
    'the process to reach its gate',
    async () => {
      const now = parseJson<{ status: string; pauses: Array<{ id: string }> }>(
        await runCli(['status', id, '--json'], { env, cwd, timeoutMs: STACK_MS }),
      );
      return now.status === 'awaiting_human' ? now : undefined;
    },
    STACK_MS,
  );
  assert.equal(status.pauses[0]!.id, 'review');

  const approved = await runCli(['approve', id, '--json'], { env, cwd, timeoutMs: STACK_MS });
  assert.equal(approved.code, 0, approved.stderr);
  const watched = await runCli(['watch', id, '--json'], { env, cwd, timeoutMs: STACK_MS });
  assert.equal(watched.code, 0, watched.stderr);
  assert.equal(parseJsonLines(watched.stdout).at(-1)!.status, 'succeeded');
});

test('a port given in the environment that is taken: a clear error, and what started is stopped', async () => {
  const cwd = workdir();
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const result = await runCli(['status', 'anything'], {
      env: embeddedEnv({ COASTY_EMULATOR_PORT: String(port) }),
      cwd,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`port ${port} \\(COASTY_EMULATOR_PORT\\) is in use`));
    assert.equal(existsSync(join(cwd, '.coasty-temporal', 'stack.lock')), false, 'the lock is released');
  } finally {
    blocker.close();
  }
});
