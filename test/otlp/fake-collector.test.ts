// The fake OTLP collector reads what the official OpenTelemetry exporters send, protobuf (gzipped)
// and JSON alike, into the same flat spans and metrics; and it goes down and comes back on its port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { startFakeCollector, type FakeCollector, type FlatMetric } from '../support/fake-otlp-collector';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'llm-capture-test' });
type ExportResult = Parameters<Parameters<ProtoTraceExporter['export']>[1]>[0];
type Compression = NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression'];
const SUCCESS = 0; // ExportResultCode.SUCCESS (@opentelemetry/core is not ours to import)

function send<T>(exporter: { export(items: T, done: (r: ExportResult) => void): void }, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

async function withCollector(body: (c: FakeCollector) => Promise<void>): Promise<void> {
  const c = await startFakeCollector();
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

/** One finished span with a remote parent, kept in memory so both exporters send the very same span. */
async function makeSpan(): Promise<ReadableSpan> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const parent = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: TraceFlags.SAMPLED });
  const span = provider.getTracer('fake-collector-test', '1.2.3').startSpan('chat claude', {
    kind: SpanKind.CLIENT,
    attributes: { 'gen_ai.system': 'anthropic', 'gen_ai.usage.input_tokens': 1234, 'gen_ai.response.finish_reasons': ['end_turn', 'tool_use'] },
  }, parent);
  span.addEvent('first-token', { 'token.index': 0 });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'overloaded' });
  span.end();
  await provider.forceFlush();
  const [finished] = memory.getFinishedSpans();
  await provider.shutdown();
  return finished;
}

test('a span reads the same whether it came as gzipped protobuf or as JSON', () => withCollector(async (c) => {
  const span = await makeSpan();
  const proto = new ProtoTraceExporter({ url: `${c.url}/v1/traces`, compression: 'gzip' as Compression });
  const json = new JsonTraceExporter({ url: `${c.url}/v1/traces` });
  assert.equal((await send(proto, [span])).code, SUCCESS);
  assert.equal((await send(json, [span])).code, SUCCESS);
  await Promise.all([proto.shutdown(), json.shutdown()]);

  assert.deepEqual(c.received.map((r) => [r.contentType, r.headers['content-encoding']]), [['protobuf', 'gzip'], ['json', undefined]]);
  const [fromProto, fromJson] = c.spans();
  assert.deepEqual(fromProto, fromJson);
  assert.equal(fromProto.traceId, TRACE_ID);
  assert.equal(fromProto.parentSpanId, PARENT_ID);
  assert.equal(fromProto.spanId, span.spanContext().spanId);
  assert.equal(fromProto.name, 'chat claude');
  assert.equal(fromProto.kind, 3); // OTLP numbers kinds from SPAN_KIND_UNSPECIFIED: CLIENT is 3
  assert.deepEqual(fromProto.attributes, { 'gen_ai.system': 'anthropic', 'gen_ai.usage.input_tokens': 1234, 'gen_ai.response.finish_reasons': ['end_turn', 'tool_use'] });
  assert.deepEqual(fromProto.status, { code: 2, message: 'overloaded' });
  assert.deepEqual(fromProto.events, [{ name: 'first-token', attributes: { 'token.index': 0 } }]);
  assert.deepEqual(fromProto.links, []);
  assert.equal(fromProto.resource[ATTR_SERVICE_NAME], 'llm-capture-test');
  assert.deepEqual(fromProto.scope, { name: 'fake-collector-test', version: '1.2.3' });
  const [s, ns] = span.startTime;
  assert.equal(fromProto.startTimeUnixNano, BigInt(s) * 1_000_000_000n + BigInt(ns));
  assert.ok(fromProto.endTimeUnixNano >= fromProto.startTimeUnixNano);
}));

test('a histogram reads the same from the protobuf and the JSON metric exporters', () => withCollector(async (c) => {
  const url = `${c.url}/v1/metrics`;
  // Long intervals: only the explicit flush exports.
  const readers = [new ProtoMetricExporter({ url }), new JsonMetricExporter({ url })]
    .map((exporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 }));
  const provider = new MeterProvider({ resource, readers });
  const latency = provider.getMeter('fake-collector-test').createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'Call duration' });
  latency.record(0.5, { 'gen_ai.request.model': 'claude-x' });
  latency.record(2, { 'gen_ai.request.model': 'claude-x' });
  await provider.forceFlush();
  const [encodings, metrics] = [c.received.map((r) => r.contentType).sort(), c.metrics()];
  await provider.shutdown(); // which exports once more

  assert.deepEqual(encodings, ['json', 'protobuf']);
  // Each reader stamps its own collection time.
  const timeless = (m: FlatMetric) => ({ ...m, dataPoints: m.dataPoints.map(({ startTimeUnixNano: _s, timeUnixNano: _t, ...p }) => p) });
  const [a, b] = metrics;
  assert.deepEqual(timeless(a), timeless(b));
  assert.equal(a.name, 'gen_ai.client.operation.duration');
  assert.equal(a.type, 'histogram');
  assert.equal(a.unit, 's');
  assert.equal(a.description, 'Call duration');
  assert.equal(a.resource[ATTR_SERVICE_NAME], 'llm-capture-test');
  assert.equal(a.dataPoints.length, 1);
  const point = a.dataPoints[0];
  assert.deepEqual(point.attributes, { 'gen_ai.request.model': 'claude-x' });
  assert.equal(point.count, 2);
  assert.equal(point.sum, 2.5);
  assert.ok(point.timeUnixNano >= point.startTimeUnixNano && point.startTimeUnixNano > 0n);
}));

test('refused, an export fails; back up on the same port, the same exporter succeeds', () => withCollector(async (c) => {
  const span = await makeSpan();
  // A timeout shorter than the first retry backoff (1 s ± 20%): a refused export fails at once.
  const exporter = new ProtoTraceExporter({ url: `${c.url}/v1/traces`, timeoutMillis: 500 });
  assert.equal((await send(exporter, [span])).code, SUCCESS);

  c.setDown('refuse');
  const failed = await send(exporter, [span]);
  assert.notEqual(failed.code, SUCCESS);
  assert.match(String((failed.error as NodeJS.ErrnoException | undefined)?.code), /ECONNREFUSED|ECONNRESET/);

  const port = c.port;
  c.setDown(false);
  assert.equal((await send(exporter, [span])).code, SUCCESS);
  assert.equal(c.port, port);
  assert.equal(c.received.length, 2);
  await c.waitFor(() => c.spans().length === 2, 1000);
  await exporter.shutdown();
}));

test('a 503 or a hanging collector fails the export and counts nothing', () => withCollector(async (c) => {
  const span = await makeSpan();
  const exporter = new JsonTraceExporter({ url: `${c.url}/v1/traces`, timeoutMillis: 500 });
  c.setDown('status503');
  assert.notEqual((await send(exporter, [span])).code, SUCCESS);
  c.setDown('hang');
  const hung = await send(exporter, [span]);
  assert.notEqual(hung.code, SUCCESS);
  assert.match(String(hung.error?.message), /timed out/);
  assert.equal(c.received.length, 0);
  await assert.rejects(c.waitFor(() => c.received.length > 0, 100), /still false after 100 ms/);
  await exporter.shutdown();
}));
