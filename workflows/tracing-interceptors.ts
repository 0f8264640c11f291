// A workflow interceptor module (in every workflow bundle of CoastyPlugin, the package's and the
// tests'): OpenTelemetry spans of our workflows, made by @temporalio/interceptors-opentelemetry and
// exported through the worker's `exporter` sink (worker/tracing.ts; dropped there when tracing is off).
// One trace per process: a child run's workflow, its activities and every signal or update (a
// person's decision) are under the process's span, with run id, machine, status and cost attributes
// (workflows/span-attributes.ts). Nothing here adds a command: histories replay as before. (Full
// paths: the package's compiled ESM is bundled with fully specified imports.)
import * as otel from '@opentelemetry/api';
import {
  extractContextFromHeaders,
  headersWithContext,
} from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  workflowInfo,
  type ActivityInput,
  type LocalActivityInput,
  type SignalInput,
  type UpdateInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import {
  activityInputAttributes,
  activityKeyOf,
  activityResultAttributes,
  isCoastyWorkflow,
  messageAttributes,
  workflowInputAttributes,
  workflowResultAttributes,
} from './span-attributes';

/** This workflow's own span (module state is per workflow: the SDK gives each its module cache). */
let workflowSpan: otel.SpanContext | undefined;

export function interceptors(): WorkflowInterceptors {
  const { workflowType } = workflowInfo();
  if (!isCoastyWorkflow(workflowType)) return {};
  const traced = new OpenTelemetryInboundInterceptor();
  // Queries and update validators are not traced: they run outside history, and a span draws the
  // workflow's random numbers, which replay must draw alike.
  const tracedCalls: WorkflowInboundCallsInterceptor = {
    execute: (input, next) => traced.execute(input, next),
    handleSignal: (input, next) => traced.handleSignal(input, next),
    handleUpdate: (input, next) => traced.handleUpdate(input, next),
  };
  return {
    inbound: [
      { handleSignal: intoWorkflowTrace, handleUpdate: intoWorkflowTrace },
      tracedCalls,
      annotated(workflowType),
    ],
    outbound: [
      new OpenTelemetryOutboundInterceptor(),
      { scheduleActivity: annotateActivity, scheduleLocalActivity: annotateActivity },
    ],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
}

/**
 * A signal or update (a decision from the CLI, serve, a link) joins this workflow's trace: from
 * elsewhere it would start a trace of its own, or join the caller's, away from the process.
 */
function intoWorkflowTrace<I extends SignalInput | UpdateInput, R>(input: I, next: (input: I) => R): R {
  if (!workflowSpan) return next(input);
  const incoming = extractContextFromHeaders(input.headers);
  if (incoming && otel.trace.getSpanContext(incoming)?.traceId === workflowSpan.traceId) return next(input);
  const own = otel.trace.setSpanContext(otel.ROOT_CONTEXT, workflowSpan);
  return next({ ...input, headers: otel.context.with(own, () => headersWithContext(input.headers)) });
}

/** Inside the SDK's spans: what the workflow, its decisions say about the run (never a task or a message). */
function annotated(workflowType: string): WorkflowInboundCallsInterceptor {
  return {
    async execute(input, next) {
      const span = otel.trace.getActiveSpan();
      workflowSpan = span?.spanContext();
      span?.setAttributes(workflowInputAttributes(workflowType, input.args[0]));
      try {
        const result = await next(input);
        span?.setAttributes(workflowResultAttributes(workflowType, result));
        return result;
      } catch (error) {
        // A failed run carries its partial result (steps, cost) in the failure's details.
        const details = (error as { details?: unknown[] } | undefined)?.details;
        span?.setAttributes(workflowResultAttributes(workflowType, details?.[0]));
        throw error;
      }
    },
    handleSignal(input, next) {
      otel.trace.getActiveSpan()?.setAttributes(messageAttributes(input.args));
      return next(input);
    },
    handleUpdate(input, next) {
      otel.trace.getActiveSpan()?.setAttributes(messageAttributes(input.args));
      return next(input);
    },
  };
}

async function annotateActivity<I extends ActivityInput | LocalActivityInput>(
  input: I,
  next: (input: I) => Promise<unknown>,
): Promise<unknown> {
  const key = activityKeyOf(input.activityType);
  const span = otel.trace.getActiveSpan();
  if (!key || !span) return next(input);
  span.setAttributes(activityInputAttributes(key, input.args[0]));
  const result = await next(input);
  span.setAttributes(activityResultAttributes(key, result));
  return result;
}
