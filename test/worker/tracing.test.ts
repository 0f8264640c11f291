// OpenTelemetry traces with OTEL_EXPORTER_OTLP_ENDPOINT: `coasty-temporal worker` and a client of ours
// (makeClient) send their spans to a small OTLP/HTTP receiver started here. After a chain with a pause,
// the process is one trace: the client's start is its root, the chain's span is the ancestor of each
// run's workflow, activities and decision, the run spans carry run id, machine and cost, and no
// secret, API key or task text is anywhere in what was sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeClient } from '../../client/connect';
import { shutdownTracing } from '../../worker/tracing';
import { progressQuery, type AgentRunProgress } from '../../workflows/messages';
import { runChain } from '../../workflows/run-chain';
import { SPAN_ATTRIBUTES as A } from '../../workflows/span-attributes';
import { agent, chain } from '../chain/specs';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const SECRET = 'tracing-secret-value-5d1e0b';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
}

/** An OTLP/HTTP receiver of JSON trace exports: every body as sent, and the spans in them. */
class OtlpReceiver {
  readonly bodies: string[] = [];
  readonly spans: Span[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (request.url === '/v1/traces' && request.method === 'POST') {
          this.bodies.push(body);
          this.spans.push(...spansOf(JSON.parse(body)));
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function spansOf(request: {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
}): Span[] {
  return (request.resourceSpans ?? []).flatMap((resource) =>
    (resource.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: span.traceId as string,
        spanId: span.spanId as string,
        parentSpanId: (span.parentSpanId as string | undefined) || undefined,
        name: span.name as string,
        attributes: Object.fromEntries(
          ((span.attributes ?? []) as Array<{ key: string; value: Record<string, unknown> }>).map(
            ({ key, value }) => {
              const raw = value.stringValue ?? value.doubleValue ?? value.intValue ?? value.boolValue;
              return [key, value.intValue !== undefined ? Number(raw) : (raw as string | number | boolean)];
            },
          ),
        ),
      })),
    ),
  );
}

const receiver = new OtlpReceiver();
let stack: TestStack;
let worker: WorkerProcess;

before(async () => {
  await receiver.start();
  stack = await startStack({ label: 'tracing', worker: false });
  worker = await spawnWorker({
    taskQueue: stack.taskQueue,
    baseUrl: stack.emulator.baseUrl,
    apiKey: stack.emulator.apiKey,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Nothing leaves on the batch timer: the spans arrive only if the worker flushes as it stops.
      OTEL_BSP_SCHEDULE_DELAY: String(3_600_000),
      COASTY_SECRET_PORTAL: SECRET,
    },
    cli: true,
  });
});
after(async () => {
  if (worker?.child.exitCode === null) worker.child.kill('SIGTERM');
  await worker?.exited;
  await shutdownTracing();
  await stack?.stop();
  await receiver.stop();
});

test('a chain with a pause is one trace: its runs, activities and decision under the process span, with run attributes and no secrets', async () => {
  assert.ok(
    worker.output.includes(`Traces: ${receiver.url}/v1/traces`),
    `the worker says where traces go:\n${worker.output.join('\n')}`,
  );
  const client = makeClient(stack.env.connection, 'default', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  const chainId = `tracing-chain-${process.pid}`;
  const handle = await client.workflow.start(runChain, {
    taskQueue: stack.taskQueue,
    workflowId: chainId,
    args: [
      chain([
        agent('login', 'Log in with {{secret.PORTAL}} [steps=2]', { machineId: 'm-3' }),
        agent('pay', 'Pay invoice INV-9 [steps=3] [human@2]'),
      ]),
    ],
  });
  // The decision comes from a client without tracing (as serve's or a link's may): it must still
  // land in the process's trace.
  const step = stack.env.client.workflow.getHandle(`${chainId}/pay`);
  await waitUntil('the pay step to pause', async () => {
    const progress = (await step.query(progressQuery).catch(() => undefined)) as AgentRunProgress | undefined;
    return progress?.awaiting ? true : undefined;
  });
  await step.executeUpdate('decide', { args: [{ action: 'approve', by: 'ann' }] });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');

  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0);
  await shutdownTracing();

  const spans = await waitUntil('the spans of the chain, its runs and the decision', () => {
    const found = receiver.spans;
    const has = (name: string, workflowId: string) =>
      found.some((span) => span.name === name && span.attributes.workflowId === workflowId);
    return has('RunWorkflow:runChain', chainId) &&
      has('RunWorkflow:agentRun', `${chainId}/login`) &&
      has('RunWorkflow:agentRun', `${chainId}/pay`) &&
      has('HandleUpdate:decide', `${chainId}/pay`) &&
      found.some((span) => span.name === 'StartWorkflow:runChain')
      ? found
      : undefined;
  });
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const isUnder = (span: Span, ancestor: Span): boolean => {
    for (
      let at = span.parentSpanId && byId.get(span.parentSpanId);
      at;
      at = at.parentSpanId && byId.get(at.parentSpanId)
    ) {
      if (at.spanId === ancestor.spanId) return true;
    }
    return false;
  };
  const named = (name: string, workflowId?: string) =>
    spans.filter(
      (span) =>
        span.name === name &&
        (workflowId === undefined ||
          span.attributes.workflowId === workflowId ||
          span.attributes.temporalWorkflowId === workflowId),
    );

  const [processSpan] = named('RunWorkflow:runChain', chainId);
  const [start] = named('StartWorkflow:runChain');
  assert.ok(processSpan && start);
  assert.equal(start.parentSpanId, undefined, "the client's start is the trace's root");
  assert.equal(processSpan.parentSpanId, start.spanId, 'the chain runs in the trace its start began');
  assert.equal(processSpan.attributes[A.processName], 'test-chain');
  assert.equal(processSpan.attributes[A.costUsd], result.costUsd);

  for (const stepResult of result.steps) {
    const workflowId = `${chainId}/${stepResult.id}`;
    const runSpans = [
      ...named('RunWorkflow:agentRun', workflowId),
      ...named('StartActivity:coasty.createRun', workflowId),
      ...named('RunActivity:coasty.createRun', workflowId),
      ...named('StartActivity:coasty.streamRun', workflowId),
      ...named('RunActivity:coasty.streamRun', workflowId),
    ];
    assert.equal(
      new Set(runSpans.map((span) => span.name)).size,
      5,
      `every kind of run span of ${stepResult.id}`,
    );
    for (const span of runSpans) {
      assert.equal(
        span.traceId,
        processSpan.traceId,
        `${span.name} of ${stepResult.id} is in the process's trace`,
      );
      assert.ok(isUnder(span, processSpan), `${span.name} of ${stepResult.id} is under the process span`);
    }
    const [run] = named('RunWorkflow:agentRun', workflowId);
    assert.equal(run!.attributes[A.runId], stepResult.runId);
    assert.equal(run!.attributes[A.costUsd], stepResult.costUsd);
    assert.equal(run!.attributes[A.steps], stepResult.steps);
    assert.equal(run!.attributes[A.machineId], stepResult.id === 'login' ? 'm-3' : 'm-1');
    for (const created of named('RunActivity:coasty.createRun', workflowId)) {
      assert.equal(created.attributes[A.runId], stepResult.runId);
      assert.equal(created.attributes[A.machineId], stepResult.id === 'login' ? 'm-3' : 'm-1');
    }
    const streams = named('RunActivity:coasty.streamRun', workflowId);
    assert.ok(streams.every((span) => span.attributes[A.runId] === stepResult.runId));
    const costs = streams.map((span) => span.attributes[A.costUsd] as number);
    assert.equal(Math.max(...costs), stepResult.costUsd, 'the last stream reports what the run cost');
  }

  const decisions = named('HandleUpdate:decide', `${chainId}/pay`);
  assert.equal(decisions.length, 1);
  const [payRun] = named('RunWorkflow:agentRun', `${chainId}/pay`);
  assert.equal(decisions[0]!.parentSpanId, payRun!.spanId, "the decision is under its run's span");
  assert.ok(isUnder(decisions[0]!, processSpan));
  assert.equal(decisions[0]!.attributes[A.decision], 'approve');
  assert.equal(decisions[0]!.attributes[A.decidedBy], 'ann');

  // Nothing secret or private anywhere in what left the processes: attributes, events, resources.
  const sent = receiver.bodies.join('\n');
  assert.ok(!sent.includes(SECRET), 'no secret value');
  assert.ok(!sent.includes(stack.emulator.apiKey), 'no API key');
  assert.ok(
    !sent.includes('Pay invoice') && !sent.includes('INV-9') && !sent.includes('Log in with'),
    'no task text',
  );
  assert.ok(!sent.includes('{{secret.'), 'no secret placeholder');
});
