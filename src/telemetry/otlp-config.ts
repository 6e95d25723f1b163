// Where and how to export, the OpenTelemetry way: our settings (`llmCapture.otlp.*`, or the CLI's
// flags) win; what they leave unset comes from the standard OTEL_EXPORTER_OTLP_* variables, which
// the official exporters read themselves (endpoint, headers, timeout, compression, certificates).
// Export is never turned on by those variables alone: a user's shell may hold them for an app of
// their own, and sending their agents' prompts there unasked would be a leak.
import { latestConventionsOnly } from './genai-conventions';
import { IDLE_MS } from './genai-spans';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpSettings {
  /** Base URL (`/v1/traces` and `/v1/metrics` are appended), as OTEL_EXPORTER_OTLP_ENDPOINT. Empty: the variables, else http://localhost:4318. */
  endpoint?: string;
  protocol?: OtlpProtocol;
  /** Extra request headers (an API key for a SaaS backend). */
  headers?: Record<string, string>;
  /** Send prompts, answers, system instructions, tool definitions, arguments and results. */
  content?: boolean;
  timeoutMs?: number;
  /** A thread quiet this long is done: its agent span is sent. */
  agentIdleMs?: number;
}

export interface OtlpConfig {
  tracesUrl: string;
  metricsUrl: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  content: boolean;
  timeoutMs?: number;
  agentIdleMs: number;
  /** Characters per attribute value (content is cut to fit). */
  attributeLimit: number;
  /** Send only the latest GenAI names (OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental). */
  latestOnly: boolean;
  /** What the cursor is kept per: another endpoint starts afresh. */
  key: string;
}

export class OtlpConfigError extends Error {}

/** 256 KiB: backends keep attributes of this size; a whole long history would be megabytes per call. */
const DEFAULT_ATTRIBUTE_LIMIT = 256 * 1024;

export function resolveOtlpConfig(settings: OtlpSettings, env: NodeJS.ProcessEnv = process.env): OtlpConfig {
  const protocol = settings.protocol ?? protocolFromEnv(env);
  const base = settings.endpoint?.trim() || undefined;
  const tracesUrl = base ? signalUrl(base, 'traces') : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || signalUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318', 'traces');
  const metricsUrl = base ? signalUrl(base, 'metrics') : env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || signalUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318', 'metrics');
  for (const url of [tracesUrl, metricsUrl]) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OtlpConfigError(`the OTLP endpoint "${url}" is not a URL (e.g. http://localhost:4318)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new OtlpConfigError(`the OTLP endpoint "${url}" must be http:// or https://`);
  }
  const limit = Number(env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT ?? env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT ?? DEFAULT_ATTRIBUTE_LIMIT);
  const agentIdleMs = settings.agentIdleMs ?? IDLE_MS;
  if (!(agentIdleMs > 0)) throw new OtlpConfigError('the agent idle time must be a positive number of seconds');
  return {
    tracesUrl, metricsUrl, protocol, headers: settings.headers ?? {}, content: settings.content ?? false, timeoutMs: settings.timeoutMs,
    agentIdleMs, attributeLimit: Number.isFinite(limit) && limit > 0 ? limit : DEFAULT_ATTRIBUTE_LIMIT,
    latestOnly: latestConventionsOnly(env),
    key: tracesUrl,
  };
}

function protocolFromEnv(env: NodeJS.ProcessEnv): OtlpProtocol {
  const value = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (value === 'http/protobuf' || value === 'http/json') return value;
  if (value === 'grpc') throw new OtlpConfigError('OTLP over gRPC is not supported: set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (collectors take it on port 4318)');
  throw new OtlpConfigError(`unknown OTLP protocol "${value}": use http/protobuf or http/json`);
}

/** As OTEL_EXPORTER_OTLP_ENDPOINT: the signal's path is appended to the base URL. */
function signalUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/** `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS' format), for the CLI's --otlp-header. */
export function parseHeaderList(items: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of items.flatMap((i) => i.split(','))) {
    const at = item.indexOf('=');
    if (at <= 0) throw new OtlpConfigError(`an OTLP header must be name=value, not "${item}"`);
    headers[decodeURIComponent(item.slice(0, at).trim())] = decodeURIComponent(item.slice(at + 1).trim());
  }
  return headers;
}
