// Sends span records with the official OTLP/HTTP exporters (protobuf or JSON), and records the
// GenAI client metrics for the calls they hold. Spans are built by us, after the fact, with
// their own ids and times, so they are handed to the exporter as ReadableSpans rather than
// made through a tracer. One resource per client: backends list the agents as services.
import { hostname, userInfo } from 'node:os';
import { SpanKind, SpanStatusCode, type Attributes, type Histogram } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ERROR_TYPE, GEN_AI, METRIC } from './genai-conventions';
import type { SpanRecord } from './genai-spans';
import type { OtlpConfig } from './otlp-config';

const SCOPE_NAME = 'llm-capture';
/** The conventions' bucket boundaries for the two histograms. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

export class OtlpSendError extends Error {}

interface ClientMeters {
  provider: MeterProvider;
  tokens: Histogram;
  duration: Histogram;
  firstChunk: Histogram;
}

export class OtlpSender {
  private readonly traces: SpanExporter;
  private readonly resources = new Map<string, Resource>();
  private readonly meters = new Map<string, ClientMeters>();
  private readonly baseResource: Resource;

  constructor(private readonly config: OtlpConfig, private readonly options: { version: string; metricIntervalMs?: number }) {
    const common = { url: config.tracesUrl, headers: config.headers, timeoutMillis: config.timeoutMs };
    this.traces = config.protocol === 'http/json' ? new JsonTraceExporter(common) : new ProtoTraceExporter(common);
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are honoured; the machine and the user are named.
    this.baseResource = resourceFromAttributes({ 'host.name': hostname(), 'user.name': safeUser() }).merge(detectResources({ detectors: [envDetector] }));
  }

  /** Sends spans in one request; rejects (with the exporter's reason) if the collector did not take them. */
  send(spans: readonly SpanRecord[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    const readable = spans.map((s) => this.readable(s));
    return new Promise((resolve, reject) => {
      this.traces.export(readable, (result) => {
        if (result.code === ExportResultCode.SUCCESS) resolve();
        else reject(new OtlpSendError(result.error?.message ?? 'the collector did not accept the spans'));
      });
    });
  }

  /** The GenAI client metrics of the `chat` spans just sent (recorded once, after they were accepted). */
  record(spans: readonly SpanRecord[]): void {
    for (const span of spans) {
      if (!span.call) continue;
      const meters = this.metersFor(span.client);
      const attributes: Attributes = {
        [GEN_AI.operationName]: span.attributes[GEN_AI.operationName] as string,
        [GEN_AI.providerName]: span.attributes[GEN_AI.providerName] as string,
      };
      if (span.call.model) attributes[GEN_AI.requestModel] = span.call.model;
      const responseModel = span.attributes[GEN_AI.responseModel];
      if (typeof responseModel === 'string') attributes[GEN_AI.responseModel] = responseModel;
      const { usage } = span.call;
      meters.tokens.record(usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens, { ...attributes, [GEN_AI.tokenType]: 'input' });
      meters.tokens.record(usage.outputTokens, { ...attributes, [GEN_AI.tokenType]: 'output' });
      if (span.call.durationMs !== undefined) {
        meters.duration.record(span.call.durationMs / 1000, span.call.errorType ? { ...attributes, [ERROR_TYPE]: span.call.errorType } : attributes);
      }
      if (span.call.timeToFirstChunkMs !== undefined) meters.firstChunk.record(span.call.timeToFirstChunkMs / 1000, attributes);
    }
  }

  /** Sends the metrics now (at stop, and in tests). */
  async flushMetrics(): Promise<void> {
    await Promise.all([...this.meters.values()].map((m) => m.provider.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.meters.values()].map((m) => m.provider.shutdown()));
    await this.traces.shutdown();
  }

  private resourceFor(client: string): Resource {
    let resource = this.resources.get(client);
    if (!resource) {
      const serviceName = process.env.OTEL_SERVICE_NAME || client;
      resource = this.baseResource.merge(resourceFromAttributes({
        'service.name': serviceName, 'llm_capture.client': client, 'telemetry.distro.name': 'llm-capture', 'telemetry.distro.version': this.options.version,
      }));
      this.resources.set(client, resource);
    }
    return resource;
  }

  private metersFor(client: string): ClientMeters {
    let meters = this.meters.get(client);
    if (!meters) {
      const common = { url: this.config.metricsUrl, headers: this.config.headers, timeoutMillis: this.config.timeoutMs, temporalityPreference: AggregationTemporality.CUMULATIVE };
      const exporter: PushMetricExporter = this.config.protocol === 'http/json' ? new JsonMetricExporter(common) : new ProtoMetricExporter(common);
      const provider = new MeterProvider({
        resource: this.resourceFor(client),
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: this.options.metricIntervalMs ?? 30_000 })],
      });
      const meter = provider.getMeter(SCOPE_NAME, this.options.version);
      meters = {
        provider,
        tokens: meter.createHistogram(METRIC.tokenUsage, { unit: '{token}', description: 'Number of input and output tokens used.', advice: { explicitBucketBoundaries: TOKEN_BUCKETS } }),
        duration: meter.createHistogram(METRIC.operationDuration, { unit: 's', description: 'GenAI operation duration.', advice: { explicitBucketBoundaries: DURATION_BUCKETS } }),
        firstChunk: meter.createHistogram(METRIC.timeToFirstChunk, { unit: 's', description: 'Time to receive the first chunk of a streamed answer.', advice: { explicitBucketBoundaries: DURATION_BUCKETS } }),
      };
      this.meters.set(client, meters);
    }
    return meters;
  }

  private readable(span: SpanRecord): ReadableSpan {
    const start = millisToHrTime(span.startMs);
    const end = millisToHrTime(Math.max(span.startMs, span.endMs));
    const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
    const attributes: Attributes = {};
    for (const [key, value] of Object.entries(span.attributes)) {
      if (!this.config.latestOnly || key !== GEN_AI.system) attributes[key] = value;
    }
    return {
      name: span.name,
      kind: span.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      spanContext: () => context,
      parentSpanContext: span.parentSpanId ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1 } : undefined,
      startTime: start,
      endTime: end,
      duration: millisToHrTime(Math.max(0, span.endMs - span.startMs)),
      status: span.status.code === 'error' ? { code: SpanStatusCode.ERROR, message: span.status.message } : { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.resourceFor(span.client),
      instrumentationScope: { name: SCOPE_NAME, version: this.options.version },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}
