// With COASTY_CODEC_KEY set, the history holds only ciphertext, the workflow still works for a client
// with the key, and the codec server lets the `temporal` CLI (like the Web UI) show it in clear.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { dataConverterFromEnv, startCodecServer, codecFromEnv, type CodecServer } from '../../codec';
import { findTemporalCli } from '../../dev/temporal-cli';
import { agentRun, type AgentRunResult } from '../../workflows/agent-run';
import { historyText } from '../helpers/agent-run';
import { startStack, type TestStack } from '../helpers/stack';
import { testServerAddress } from '../helpers/temporal';

const run = promisify(execFile);
const CANARY = 'Reconcile-ledger-Canary-5309';
const SECRET = 'codec-secret-value-8812';
const codecEnv = {
  COASTY_CODEC_KEY: randomBytes(32).toString('hex'),
  COASTY_CODEC_KEY_ID: 'test-key-1',
  COASTY_SECRET_LEDGER_PASSWORD: SECRET,
};

let stack: TestStack;
let client: Client;
let codecServer: CodecServer;
let workflowId: string;
let result: AgentRunResult;

before(async () => {
  stack = await startStack({ label: 'codec', workerEnv: codecEnv });
  client = new Client({ connection: stack.env.connection, dataConverter: dataConverterFromEnv(codecEnv) });
  codecServer = await startCodecServer({ codec: codecFromEnv(codecEnv)! });
  workflowId = `codec-${process.pid}-${Date.now()}`;
  const handle = await client.workflow.start(agentRun, {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [{ request: { machine_id: 'm-1', task: `${CANARY} with {{secret.LEDGER_PASSWORD}} [steps=4]` } }],
  });
  result = await handle.result();
});
after(async () => {
  await codecServer?.stop();
  await stack?.stop();
});

test('the workflow works end to end with encrypted payloads', async () => {
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps, 4);
  const truth = await stack.emulator.admin.run(result.runId);
  assert.ok(truth.run.task.includes(CANARY) && truth.run.task.includes(SECRET), 'the API got the plain task');
});

test('the history holds ciphertext only: no task, no placeholder, no result, every payload binary/encrypted', async () => {
  const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  const text = historyText(history);
  assert.ok(!text.includes(CANARY), 'the task is not readable in history');
  assert.ok(!text.includes('{{secret.LEDGER_PASSWORD}}'), 'not even the placeholder');
  assert.ok(!text.includes(SECRET));
  assert.ok(!text.includes(result.runId), 'activity results (the run id) are encrypted too');
  assert.ok(text.includes('binary/encrypted') && text.includes('test-key-1'));
  const payloads: Array<{ metadata?: Record<string, Uint8Array> | null }> = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const maybe = value as { metadata?: Record<string, Uint8Array>; data?: unknown };
    if (maybe.metadata && maybe.data instanceof Uint8Array) payloads.push(maybe);
    else
      for (const [key, inner] of Object.entries(value)) {
        // Search attributes are indexed by the server, so never encoded: ours is only a status.
        if (key !== 'searchAttributes') collect(inner);
      }
  };
  collect(history.events);
  // A local activity's marker (createRun) also carries the SDK's own bookkeeping, which the SDK never
  // encodes: check that it is only that (ids, attempt, times), then leave it out.
  // So does a `patched()` marker: its `patch-data` is the patch id (workflows/patches.ts) and a flag.
  const markerBookkeeping = new Set<unknown>(
    history.events!.flatMap((e) => [
      ...(e.markerRecordedEventAttributes?.details?.data?.payloads ?? []),
      ...(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []),
    ]),
  );
  for (const payload of markerBookkeeping) {
    const { data } = payload as { data: Uint8Array };
    const fields = Object.keys(JSON.parse(Buffer.from(data).toString()) as object);
    const allowed = [
      'seq',
      'attempt',
      'activity_id',
      'activity_type',
      'complete_time',
      'backoff',
      'original_schedule_time',
      'id',
      'deprecated',
    ];
    assert.deepEqual(
      fields.filter((field) => !allowed.includes(field)),
      [],
      'marker bookkeeping holds no data',
    );
  }
  assert.ok(markerBookkeeping.size >= 1, 'createRun left its marker');
  // The tracing interceptors' header on commands (`_tracer-data`, which the SDK never encodes either):
  // W3C trace context, the ids of a trace and a span, nothing of the process.
  const traceHeaders = new Set<unknown>(
    history.events!.flatMap((e) =>
      Object.values(e)
        .map(
          (attributes) => (attributes as { header?: { fields?: Record<string, unknown> } })?.header?.fields,
        )
        .flatMap((fields) => (fields?.['_tracer-data'] ? [fields['_tracer-data']] : [])),
    ),
  );
  for (const payload of traceHeaders) {
    const { data } = payload as { data: Uint8Array };
    const context = JSON.parse(Buffer.from(data).toString()) as Record<string, string>;
    assert.deepEqual(
      Object.keys(context).filter((key) => key !== 'traceparent' && key !== 'tracestate'),
      [],
      'the trace header holds trace context only',
    );
  }
  payloads.splice(
    0,
    payloads.length,
    ...payloads.filter((payload) => !markerBookkeeping.has(payload) && !traceHeaders.has(payload)),
  );
  assert.ok(payloads.length >= 4, `found ${payloads.length} payloads`);
  for (const payload of payloads) {
    assert.equal(Buffer.from(payload.metadata!.encoding!).toString(), 'binary/encrypted');
  }
});

test('a client without the key cannot read the result', async () => {
  await assert.rejects(
    stack.env.client.workflow.getHandle(workflowId).result(),
    /encoding|binary\/encrypted/i,
  );
});

test('the codec server lets the temporal CLI show the history in clear (as the Web UI does)', async () => {
  const cli = await findTemporalCli();
  const show = (extra: string[]) =>
    run(
      cli.path,
      [
        'workflow',
        'show',
        '--address',
        testServerAddress(),
        '--workflow-id',
        workflowId,
        '--output',
        'json',
        ...extra,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).then((out) => {
      // JSON output shows payload data as base64: decode every payload to search its text.
      const texts: string[] = [];
      const visit = (value: unknown): void => {
        if (!value || typeof value !== 'object') return;
        const maybe = value as { metadata?: unknown; data?: unknown };
        if (maybe.metadata && typeof maybe.data === 'string')
          texts.push(Buffer.from(maybe.data, 'base64').toString());
        Object.values(value).forEach(visit);
      };
      visit(JSON.parse(out.stdout));
      return texts.join('\n');
    });
  const encrypted = await show([]);
  assert.ok(!encrypted.includes(CANARY));
  const decoded = await show(['--codec-endpoint', codecServer.url]);
  assert.ok(decoded.includes(CANARY), 'decoded through the codec server');
  assert.ok(decoded.includes('{{secret.LEDGER_PASSWORD}}'), 'the placeholder, never the value');
  assert.ok(!decoded.includes(SECRET));
});
