// Hand-made exchanges for the cases no captured fixture covers (errors, rare block types).
import type { ExchangeRecord, SseEventRecord, StoredBody, WsMessageRecord } from '../../src/capture/records';
import type { DissectInput } from '../../src/llm/dissector';
import { splitSse } from './fixture-loader';

let nextId = 900_000;

function body(text: string): StoredBody {
  const data = Buffer.from(text, 'utf8');
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

export interface HttpCase {
  url: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is (for broken bodies). */
  request: unknown;
  status?: number;
  /** A JSON response body (object or raw string). */
  response?: unknown;
  /** SSE events, each `{event?, data}` with data an object (sent as JSON) or a raw string. */
  sse?: { event?: string; data: unknown }[];
  /** Leave the SSE events to be split from the stored body instead of passing them in. */
  sseFromBody?: boolean;
}

const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export function httpCase(c: HttpCase): DissectInput {
  const id = nextId++;
  const startedAt = 1_000_000 + id;
  const sseText = c.sse?.map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${text(e.data)}\n\n`).join('') ?? '';
  const exchange: ExchangeRecord = {
    id,
    connectionId: id,
    method: 'POST',
    url: c.url,
    httpVersion: '1.1',
    kind: c.sse ? 'sse' : 'http',
    statusCode: c.status ?? 200,
    requestHeaders: Object.entries(c.headers ?? {}),
    responseHeaders: [['content-type', c.sse ? 'text/event-stream' : 'application/json']],
    requestBody: body(text(c.request)),
    responseBody: body(c.sse ? sseText : c.response === undefined ? '' : text(c.response)),
    startedAt,
    responseStartedAt: startedAt + 5,
    endedAt: startedAt + 1000,
    outcome: 'complete',
    errors: [],
  };
  if (!c.sse || c.sseFromBody) return { exchange };
  const sseEvents: SseEventRecord[] = splitSse(sseText, startedAt + 10);
  return { exchange, sseEvents };
}

export interface WsFrame {
  dir: 'in' | 'out' | 'close';
  /** An object is sent as JSON text; a string as it is. */
  data: unknown;
}

export function wsCase(url: string, headers: Record<string, string>, frames: WsFrame[], ended = true): DissectInput {
  const id = nextId++;
  const startedAt = 2_000_000 + id;
  const wsMessages = frames.map((f, seq): WsMessageRecord => {
    const data = Buffer.from(text(f.data), 'utf8');
    return {
      exchangeId: id, seq, time: startedAt + 10 * (seq + 1),
      direction: f.dir === 'in' ? 'client-to-server' : 'server-to-client',
      opcode: f.dir === 'close' ? 'close' : 'text', data, size: data.length,
    };
  });
  const exchange: ExchangeRecord = {
    id, connectionId: id, method: 'GET', url, httpVersion: '1.1', kind: 'websocket', statusCode: 101,
    requestHeaders: Object.entries(headers), startedAt, errors: [],
    ...(ended ? { endedAt: startedAt + 10 * (frames.length + 1), outcome: 'complete' as const } : {}),
  };
  return { exchange, wsMessages };
}

/** Deep copy of JSON data, to derive a variant of a fixture's request. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
