// A fake OpenTelemetry Collector: OTLP/HTTP on 127.0.0.1, protobuf or JSON, gzip or not, that a
// test can take down (refused, 503, hanging) and bring back on the same port. Protobuf bodies are
// decoded with the official generated definitions (the protobufjs module of otlp-transformer 0.57.2,
// installed as otlp-proto-definitions: later releases ship none), so a test sees what a real
// collector would read, not what our own encoder believes it wrote.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import protoRoot from 'otlp-proto-definitions/build/src/generated/root';

/** Int64 fields: protobuf decodes them to strings; OTLP/JSON allows strings or numbers. */
type Int64 = string | number;
export interface OtlpAnyValue {
  stringValue?: string; boolValue?: boolean; intValue?: Int64; doubleValue?: number | string; bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] }; kvlistValue?: { values?: OtlpKeyValue[] };
}
export interface OtlpKeyValue { key: string; value?: OtlpAnyValue }
interface OtlpResource { attributes?: OtlpKeyValue[] }
interface OtlpScope { name?: string; version?: string }
/** Ids are hex strings in both encodings (protobuf bytes are converted on decode). */
export interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number;
  startTimeUnixNano: Int64; endTimeUnixNano: Int64; attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  links?: { traceId: string; spanId: string; attributes?: OtlpKeyValue[] }[];
  events?: { name: string; timeUnixNano?: Int64; attributes?: OtlpKeyValue[] }[];
}
export interface DecodedTraces { resourceSpans?: { resource?: OtlpResource; scopeSpans?: { scope?: OtlpScope; spans?: OtlpSpan[] }[] }[] }
export interface OtlpDataPoint {
  attributes?: OtlpKeyValue[]; startTimeUnixNano?: Int64; timeUnixNano?: Int64;
  asInt?: Int64; asDouble?: number; count?: Int64; sum?: number; bucketCounts?: Int64[]; explicitBounds?: number[];
}
const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];
export type OtlpMetric = { name: string; unit?: string; description?: string } & { [T in MetricType]?: { dataPoints?: OtlpDataPoint[] } };
export interface DecodedMetrics { resourceMetrics?: { resource?: OtlpResource; scopeMetrics?: { scope?: OtlpScope; metrics?: OtlpMetric[] }[] }[] }

export interface ReceivedExport {
  signal: 'traces' | 'metrics';
  contentType: 'protobuf' | 'json';
  headers: IncomingHttpHeaders;
  /** The body as it came on the wire (still gzipped if Content-Encoding says so). */
  raw: Buffer;
  /** Decoded to plain JSON-like objects, the same shape for both encodings. */
  body: DecodedTraces | DecodedMetrics;
}
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue>;
export interface FlatSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  startTimeUnixNano: bigint; endTimeUnixNano: bigint; attributes: Attributes;
  status: { code: number; message?: string };
  links: { traceId: string; spanId: string }[]; events: { name: string; attributes: Attributes }[];
  resource: Attributes; scope: { name: string; version: string };
}
export interface FlatDataPoint {
  attributes: Attributes; count?: number; sum?: number; value?: number;
  bucketCounts?: number[]; explicitBounds?: number[]; startTimeUnixNano: bigint; timeUnixNano: bigint;
}
export interface FlatMetric {
  name: string; unit: string; description: string; type: MetricType;
  resource: Attributes; scope: { name: string; version: string }; dataPoints: FlatDataPoint[];
}
export type DownMode = false | 'refuse' | 'status503' | 'hang';
export interface FakeCollector {
  /** http://127.0.0.1:PORT, without a path: exporters want url + '/v1/traces'. */
  url: string;
  port: number;
  /** Only the exports answered 200. */
  received: ReceivedExport[];
  spans(): FlatSpan[];
  metrics(): FlatMetric[];
  /** 'refuse' stops listening (and drops open connections); false listens again on the same port. */
  setDown(mode: DownMode): void;
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface ProtoType { decode(bytes: Uint8Array): object; toObject(message: object, options: { longs: StringConstructor; enums: NumberConstructor }): object }
const collectorProto = (protoRoot as unknown as { opentelemetry: { proto: { collector: {
  trace: { v1: { ExportTraceServiceRequest: ProtoType } }; metrics: { v1: { ExportMetricsServiceRequest: ProtoType } };
} } } }).opentelemetry.proto.collector;
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** protobufjs leaves bytes as Uint8Array: ids become hex as in OTLP/JSON, other bytes base64. */
function plain(v: unknown, key: string): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString(ID_KEYS.has(key) ? 'hex' : 'base64');
  if (Array.isArray(v)) return v.map((x) => plain(x, key));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, k)]));
  return v;
}

function decode(signal: ReceivedExport['signal'], type: ReceivedExport['contentType'], bytes: Buffer): DecodedTraces | DecodedMetrics {
  if (type === 'json') return JSON.parse(bytes.toString('utf8')) as DecodedTraces | DecodedMetrics;
  const t = signal === 'traces' ? collectorProto.trace.v1.ExportTraceServiceRequest : collectorProto.metrics.v1.ExportMetricsServiceRequest;
  return plain(t.toObject(t.decode(bytes), { longs: String, enums: Number }), '') as DecodedTraces | DecodedMetrics;
}

/** OTLP/JSON ids are hex; tolerate base64 from exporters that got the spec wrong. */
function hexId(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return /^[0-9a-f]+$/i.test(v) ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
}
function attrValue(v: OtlpAnyValue | undefined): AttributeValue {
  if (v?.stringValue !== undefined) return v.stringValue;
  if (v?.boolValue !== undefined) return v.boolValue;
  if (v?.intValue !== undefined) return Number(v.intValue);
  if (v?.doubleValue !== undefined) return Number(v.doubleValue);
  if (v?.arrayValue) return (v.arrayValue.values ?? []).map(attrValue) as string[] | number[] | boolean[];
  if (v?.kvlistValue) return JSON.stringify(attributes(v.kvlistValue.values));
  return v?.bytesValue ?? '';
}
function attributes(kvs: OtlpKeyValue[] | undefined): Attributes {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, attrValue(kv.value)]));
}
const nanos = (v: Int64 | undefined): bigint => BigInt(String(v ?? 0));
const optNumber = (v: Int64 | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const scopeOf = (s: OtlpScope | undefined) => ({ name: s?.name ?? '', version: s?.version ?? '' });

function flattenSpans(body: DecodedTraces): FlatSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s): FlatSpan => ({
    traceId: hexId(s.traceId) ?? '', spanId: hexId(s.spanId) ?? '', parentSpanId: hexId(s.parentSpanId),
    name: s.name, kind: Number(s.kind ?? 0),
    startTimeUnixNano: nanos(s.startTimeUnixNano), endTimeUnixNano: nanos(s.endTimeUnixNano),
    attributes: attributes(s.attributes),
    status: { code: Number(s.status?.code ?? 0), ...(s.status?.message ? { message: s.status.message } : {}) },
    links: (s.links ?? []).map((l) => ({ traceId: hexId(l.traceId) ?? '', spanId: hexId(l.spanId) ?? '' })),
    events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
    resource: attributes(rs.resource?.attributes), scope: scopeOf(ss.scope),
  }))));
}

function flattenMetrics(body: DecodedMetrics): FlatMetric[] {
  return (body.resourceMetrics ?? []).flatMap((rm) => (rm.scopeMetrics ?? []).flatMap((sm) => (sm.metrics ?? []).map((m): FlatMetric => {
    const type = METRIC_TYPES.find((t) => m[t] !== undefined) ?? 'gauge';
    const dataPoints = (m[type]?.dataPoints ?? []).map((p): FlatDataPoint => {
      const value = p.asInt !== undefined ? Number(p.asInt) : p.asDouble !== undefined ? Number(p.asDouble) : undefined;
      return {
        attributes: attributes(p.attributes), startTimeUnixNano: nanos(p.startTimeUnixNano), timeUnixNano: nanos(p.timeUnixNano),
        ...(p.count !== undefined ? { count: optNumber(p.count) } : {}), ...(p.sum !== undefined ? { sum: Number(p.sum) } : {}),
        ...(value !== undefined ? { value } : {}),
        ...(p.bucketCounts ? { bucketCounts: p.bucketCounts.map(Number) } : {}), ...(p.explicitBounds ? { explicitBounds: p.explicitBounds.map(Number) } : {}),
      };
    });
    return { name: m.name, unit: m.unit ?? '', description: m.description ?? '', type, resource: attributes(rm.resource?.attributes), scope: scopeOf(sm.scope), dataPoints };
  })));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
function reply(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
}

export async function startFakeCollector(opts: { port?: number } = {}): Promise<FakeCollector> {
  const received: ReceivedExport[] = [];
  const sockets = new Set<Socket>();
  let mode: DownMode = false;
  let serverError: Error | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    if (mode === 'hang') return; // never answered: close() destroys the socket
    if (mode === 'status503') return reply(res, 503, 'text/plain', 'fake collector is down');
    const signal = req.url === '/v1/traces' ? 'traces' : req.url === '/v1/metrics' ? 'metrics' : undefined;
    if (req.method !== 'POST' || !signal) return reply(res, 404, 'text/plain', 'not an OTLP path');
    const ct = req.headers['content-type'] ?? '';
    const contentType = ct.startsWith('application/x-protobuf') ? 'protobuf' : ct.startsWith('application/json') ? 'json' : undefined;
    if (!contentType) return reply(res, 415, 'text/plain', `unsupported content-type ${ct}`);
    let body: DecodedTraces | DecodedMetrics;
    try {
      body = decode(signal, contentType, req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
    } catch (e) {
      return reply(res, 400, 'text/plain', `undecodable ${contentType} body: ${(e as Error).message}`);
    }
    received.push({ signal, contentType, headers: req.headers, raw, body });
    // An empty Export*ServiceResponse: zero bytes in protobuf, {} in JSON.
    if (contentType === 'protobuf') reply(res, 200, 'application/x-protobuf', Buffer.alloc(0));
    else reply(res, 200, 'application/json', '{}');
  };
  const server = createServer((req, res) => { handle(req, res).catch((e: unknown) => res.destroy(e as Error)); });
  // Tracked so that 'refuse' also drops the exporters' keep-alive connections, not only the listener.
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('error', (e: Error) => { serverError = e; });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port ?? 0, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  }));
  const port = (server.address() as AddressInfo).port;
  const stopListening = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    spans: () => received.filter((r) => r.signal === 'traces').flatMap((r) => flattenSpans(r.body as DecodedTraces)),
    metrics: () => received.filter((r) => r.signal === 'metrics').flatMap((r) => flattenMetrics(r.body as DecodedMetrics)),
    setDown(next) {
      const wasListening = mode !== 'refuse';
      mode = next;
      if (next === 'refuse' && wasListening) stopListening();
      // Binding an IP literal happens on the next tick, before any client can connect.
      else if (next !== 'refuse' && !wasListening) server.listen(port, '127.0.0.1');
    },
    async waitFor(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (serverError) throw new Error(`fake collector on port ${port} failed: ${serverError.message}`);
        if (Date.now() >= deadline) {
          const got = received.map((r) => `${r.signal}/${r.contentType}`).join(', ') || 'nothing';
          throw new Error(`fake collector: ${pred.toString()} still false after ${timeoutMs} ms (received: ${got})`);
        }
        await delay(20);
      }
    },
    async close() {
      const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      mode = 'refuse';
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
