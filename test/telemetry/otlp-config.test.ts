// Where the export goes, the OpenTelemetry way (decision 72): our settings first, then the standard
// OTEL_EXPORTER_OTLP_* variables; gRPC and bad URLs refused with a sentence that says what to do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtlpConfigError, parseHeaderList, resolveOtlpConfig } from '../../src/telemetry/otlp-config';

describe('OTLP configuration', () => {
  it('defaults to http/protobuf on localhost:4318', () => {
    const c = resolveOtlpConfig({}, {});
    assert.deepEqual([c.tracesUrl, c.metricsUrl, c.protocol, c.content, c.latestOnly], ['http://localhost:4318/v1/traces', 'http://localhost:4318/v1/metrics', 'http/protobuf', false, false]);
  });

  it('reads the standard variables, signal-specific ones first, and lets the settings win', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/v1/t', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    const c = resolveOtlpConfig({}, env);
    assert.deepEqual([c.tracesUrl, c.metricsUrl, c.protocol], ['https://traces.example/v1/t', 'https://collector.example:4318/v1/metrics', 'http/json']);
    const s = resolveOtlpConfig({ endpoint: 'http://127.0.0.1:9999', protocol: 'http/protobuf' }, env);
    assert.deepEqual([s.tracesUrl, s.metricsUrl, s.protocol, s.key], ['http://127.0.0.1:9999/v1/traces', 'http://127.0.0.1:9999/v1/metrics', 'http/protobuf', 'http://127.0.0.1:9999/v1/traces']);
  });

  it('honours OTEL_SEMCONV_STABILITY_OPT_IN and the attribute length limit', () => {
    assert.equal(resolveOtlpConfig({}, { OTEL_SEMCONV_STABILITY_OPT_IN: 'http, gen_ai_latest_experimental' }).latestOnly, true);
    assert.equal(resolveOtlpConfig({}, { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1000' }).attributeLimit, 1000);
    assert.equal(resolveOtlpConfig({}, { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '500', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1000' }).attributeLimit, 500);
  });

  it('refuses what it cannot send to, saying what to do', () => {
    assert.throws(() => resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), (e) => e instanceof OtlpConfigError && /gRPC is not supported: set OTEL_EXPORTER_OTLP_PROTOCOL=http\/protobuf/.test(e.message));
    assert.throws(() => resolveOtlpConfig({ endpoint: 'collector:4318' }, {}), /must be http:\/\/ or https:\/\//);
    assert.throws(() => resolveOtlpConfig({ endpoint: 'http://bad host:4318' }, {}), /is not a URL/);
    assert.throws(() => resolveOtlpConfig({ agentIdleMs: 0 }, {}), /positive number of seconds/);
  });

  it('reads headers as OTEL_EXPORTER_OTLP_HEADERS writes them', () => {
    assert.deepEqual(parseHeaderList(['Authorization=Basic%20abc', 'x-a=1,x-b=2']), { Authorization: 'Basic abc', 'x-a': '1', 'x-b': '2' });
    assert.throws(() => parseHeaderList(['nokey']), /must be name=value/);
  });
});
