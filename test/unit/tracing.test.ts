/**
 * OpenTelemetry tracing of the worker (worker/tracing.ts): off unless an OTLP endpoint is set,
 * and then an activity run through its interceptors reaches an OTLP/HTTP receiver this test
 * starts (a plain HTTP server reading the JSON the exporter posts to /v1/traces) as a
 * `RunActivity:` span of the service. The activity runs in the SDK's MockActivityEnvironment
 * (no Temporal server: the interceptors are what is tested).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsHelp } from '../../config/settings.js';
import { tracingEnabled, workerTracingFromEnv } from '../../worker/tracing.js';

interface OtlpSpan { name: string; traceId: string; attributes?: { key: string; value: { stringValue?: string } }[] }
interface OtlpExport { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

describe('worker tracing', () => {
  let receiver: Server;
  let endpoint = '';
  const received: { path: string; body: OtlpExport }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) as OtlpExport });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('is off by default: no OTLP endpoint (or OTEL_SDK_DISABLED=true) installs nothing', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(workerTracingFromEnv({})).toBeUndefined();
    expect(workerTracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
    expect(workerTracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` })).toBe(true);
    // The settings help names the variables that turn it on.
    expect(settingsHelp()).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT +OTLP\/HTTP collector base URL/);
  });

  it('exports an activity run through its interceptors as a span to the OTLP endpoint, with the service name', async () => {
    const saved = { ...process.env };
    // The exporter reads the standard variables itself, as in the worker process.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    process.env.OTEL_SERVICE_NAME = 'az-evac-worker-test';
    try {
      const tracing = workerTracingFromEnv(process.env);
      expect(tracing).toBeDefined();
      // The workflow side: an interceptor module to bundle and the sink its spans go through.
      expect(tracing!.interceptors.workflowModules).toHaveLength(1);
      expect(existsSync(tracing!.interceptors.workflowModules[0]!)).toBe(true);
      expect(tracing!.sinks.exporter.export.fn).toBeTypeOf('function');

      const env = new MockActivityEnvironment({ activityType: 'startJob' }, { interceptors: tracing!.interceptors.activity });
      expect(await env.run(async (x: number) => x + 1, 41)).toBe(42);
      await tracing!.shutdown(); // flushes the batch
    } finally {
      process.env = saved;
    }
    expect(received.map((r) => r.path)).toEqual(['/v1/traces']);
    const [resourceSpans] = received[0]!.body.resourceSpans;
    expect(resourceSpans!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'az-evac-worker-test' } });
    const spans = resourceSpans!.scopeSpans.flatMap((s) => s.spans);
    expect(spans.map((s) => s.name)).toEqual(['RunActivity:startJob']);
    expect(spans[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
