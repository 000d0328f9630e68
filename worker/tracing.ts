/**
 * OpenTelemetry tracing of the worker through @temporalio/interceptors-opentelemetry, off by
 * default. On when OpenTelemetry's standard OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set and OTEL_SDK_DISABLED is not `true`
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/); the OTLP/HTTP exporter reads
 * those variables itself (endpoint, OTEL_EXPORTER_OTLP_HEADERS, timeouts). Spans:
 * `RunActivity:<name>` for every activity execution (activity interceptors), and the workflows'
 * `RunWorkflow:`, `StartActivity:`, `StartChildWorkflowExecution:` spans (workflow interceptor
 * module, exported through a sink by the worker). Service name: OTEL_SERVICE_NAME, default
 * az-evac-worker. Off: nothing is installed (no interceptor, no sink, no exporter).
 * Reference: https://docs.temporal.io/develop/typescript/observability#tracing
 */
import { createRequire } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, type OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';

/** What a Worker needs for tracing, and the flush at exit. */
export interface WorkerTracing {
  /** Activity interceptors, and the workflow interceptor module (bundled into the workflow code). */
  interceptors: Required<Pick<WorkerInterceptors, 'activity' | 'workflowModules'>>;
  /** The sink the workflow interceptors export their spans through. */
  sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
  /** Export the spans still buffered and stop (call once, at exit). */
  shutdown(): Promise<void>;
}

/** True when `env` turns tracing on (an OTLP endpoint set, the SDK not disabled). */
export function tracingEnabled(env: Record<string, string | undefined>): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * The worker's tracing as `env` sets it: undefined when off (see tracingEnabled), else spans
 * exported over OTLP/HTTP to the endpoint the OTEL_EXPORTER_OTLP_* variables name.
 */
export function workerTracingFromEnv(env: Record<string, string | undefined>): WorkerTracing | undefined {
  if (!tracingEnabled(env)) return undefined;
  return workerTracing(new OTLPTraceExporter(), env.OTEL_SERVICE_NAME?.trim() || 'az-evac-worker');
}

/**
 * Tracing into `exporter` (batched), spans carrying `service.name` = `serviceName`.
 * @param exporter e.g. OTLPTraceExporter, or an in-memory exporter in tests
 */
export function workerTracing(exporter: SpanExporter, serviceName: string): WorkerTracing {
  const resource = new Resource({ 'service.name': serviceName });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('az-evac');
  return {
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      workflowModules: [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
    },
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
    shutdown: () => provider.shutdown(),
  };
}
