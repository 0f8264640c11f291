// OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set: spans over OTLP/HTTP (JSON), batched. One tracer provider per process; CoastyPlugin gives its
// workers the activity interceptors and the `exporter` sink of the workflow interceptors
// (workflows/tracing-interceptors.ts, in every bundle), and its clients the start interceptor, so a
// process's trace starts where the process is started.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import {
  activityInputAttributes,
  activityKeyOf,
  activityResultAttributes,
} from '../workflows/span-attributes';

const load = createRequire(import.meta.url);
/** The OpenTelemetry SDK, loaded only when tracing is on: it takes a third of a second to import. */
const otel = () => ({
  api: load('@opentelemetry/api') as typeof import('@opentelemetry/api'),
  core: load('@opentelemetry/core') as typeof import('@opentelemetry/core'),
  contextAsyncHooks: load(
    '@opentelemetry/context-async-hooks',
  ) as typeof import('@opentelemetry/context-async-hooks'),
  exporter: load(
    '@opentelemetry/exporter-trace-otlp-http',
  ) as typeof import('@opentelemetry/exporter-trace-otlp-http'),
  resources: load('@opentelemetry/resources') as typeof import('@opentelemetry/resources'),
  sdk: load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base'),
  temporal: load(
    '@temporalio/interceptors-opentelemetry',
  ) as typeof import('@temporalio/interceptors-opentelemetry'),
});

/** The workflow interceptor module; bundles of our workflows include it (CoastyPlugin, build:dist, tests). */
export const tracingInterceptorsModule = fileURLToPath(
  new URL(`../workflows/tracing-interceptors${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export interface Tracing {
  /** Where spans go: `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  endpoint: string;
  tracer: Tracer;
  provider: BasicTracerProvider;
}

/** The traces URL the environment names; undefined: tracing off (also with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none). */
export function tracesEndpointOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim() === 'true' || env.OTEL_TRACES_EXPORTER?.trim() === 'none')
    return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** The endpoint to print: without a user, password or query (a backend's key may be there). */
export function shownEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(unparsable OTLP endpoint)';
  }
}

const providers = new Map<string, Tracing>();

/** This process's tracing to the environment's endpoint (made on first use), or undefined when off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = tracesEndpointOf(env);
  if (!endpoint) return undefined;
  const known = providers.get(endpoint);
  if (known) return known;
  const { api, core, contextAsyncHooks, exporter, resources, sdk } = otel();
  if (providers.size === 0) {
    // Spans follow awaits and cross to workflows in W3C headers (unless the program set its own).
    api.context.setGlobalContextManager(new contextAsyncHooks.AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.Resource.default().merge(
      new resources.Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'coasty-temporal' }),
    ),
    spanProcessors: [new sdk.BatchSpanProcessor(new exporter.OTLPTraceExporter({ url: endpoint }))],
  });
  const tracing = { endpoint, provider, tracer: provider.getTracer('coasty-temporal') };
  providers.set(endpoint, tracing);
  return tracing;
}

/** Sends the spans still batched (at a worker's end: spans of its last tasks are not lost). */
export async function flushTracing(): Promise<void> {
  await Promise.all([...providers.values()].map(({ provider }) => provider.forceFlush()));
}

/** Flushes and stops every provider of this process (at the end of `coasty-temporal worker`). */
export async function shutdownTracing(): Promise<void> {
  const all = [...providers.values()];
  providers.clear();
  await Promise.all(all.map(({ provider }) => provider.shutdown()));
}

/** A worker's activity spans (the SDK's), with our run attributes on those of our activities. */
export function tracingActivityInterceptors(tracing: Tracing): ActivityInterceptorsFactory {
  const { api, temporal } = otel();
  return (ctx) => {
    const traced = new temporal.OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer });
    const key = activityKeyOf(ctx.info.activityType);
    return {
      inbound: {
        execute: (input, next) =>
          traced.execute(input, async (given) => {
            const span = api.trace.getActiveSpan();
            if (!key || !span) return next(given);
            span.setAttributes(activityInputAttributes(key, given.args[0]));
            const result = await next(given);
            span.setAttributes(activityResultAttributes(key, result));
            return result;
          }),
      },
      outbound: new temporal.OpenTelemetryActivityOutboundInterceptor(ctx),
    };
  };
}

/** A client's starts carry the caller's trace context (only starts: a query or a decision is no trace of its own). */
export function tracingClientInterceptors(tracing: Tracing): WorkflowClientInterceptor[] {
  const traced = new (otel().temporal.OpenTelemetryWorkflowClientInterceptor)({ tracer: tracing.tracer });
  return [
    {
      startWithDetails: (input, next) => traced.startWithDetails(input, next),
      signalWithStart: (input, next) => traced.signalWithStart(input, next),
    },
  ];
}

/**
 * The `exporter` sink the workflow interceptors send their spans to: into this process's provider,
 * with a few of the workflow's identifiers (not its memo or search attributes); without tracing, nowhere.
 */
export function tracingSinks(
  tracing: Tracing | undefined,
): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  if (!tracing) return { exporter: { export: { fn: () => undefined } } };
  const processor = tracing.provider.getActiveSpanProcessor();
  const exporter = otel().temporal.makeWorkflowExporter(processor, tracing.provider.resource);
  return {
    exporter: {
      export: {
        fn: (info, spans) =>
          exporter.export.fn(
            {
              namespace: info.namespace,
              taskQueue: info.taskQueue,
              workflowId: info.workflowId,
              runId: info.runId,
              workflowType: info.workflowType,
            } as WorkflowInfo,
            spans,
          ),
      },
    },
  };
}
