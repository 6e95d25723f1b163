// Test support for src/capture: a sink that records every call, and builders of tap events.
import type { TapEvent } from '../../src/proxy/tap';
import type { CaptureSink, ConnectionRecord, ExchangeRecord, SseEventRecord, WsMessageRecord } from '../../src/capture/records';
import { CaptureRecorder, type CaptureRecorderOptions } from '../../src/capture/exchange-recorder';

export type SinkCall =
  | { method: 'connectionUpdated'; record: ConnectionRecord }
  | { method: 'exchangeUpdated'; record: ExchangeRecord }
  | { method: 'sseEvents'; exchangeId: number; events: SseEventRecord[] }
  | { method: 'wsMessage'; record: WsMessageRecord };

export class RecordingSink implements CaptureSink {
  readonly calls: SinkCall[] = [];

  connectionUpdated(record: ConnectionRecord): void { this.calls.push({ method: 'connectionUpdated', record }); }
  exchangeUpdated(record: ExchangeRecord): void { this.calls.push({ method: 'exchangeUpdated', record }); }
  sseEvents(exchangeId: number, events: SseEventRecord[]): void { this.calls.push({ method: 'sseEvents', exchangeId, events }); }
  wsMessage(record: WsMessageRecord): void { this.calls.push({ method: 'wsMessage', record }); }

  /** The last record the sink got for an exchange (the final one once it ended). */
  exchange(id: number): ExchangeRecord {
    const updates = this.calls.filter((c): c is Extract<SinkCall, { method: 'exchangeUpdated' }> =>
      c.method === 'exchangeUpdated' && c.record.id === id);
    if (updates.length === 0) throw new Error(`no record for exchange ${id}`);
    return updates[updates.length - 1].record;
  }

  sse(id: number): SseEventRecord[] {
    return this.calls.flatMap((c) => (c.method === 'sseEvents' && c.exchangeId === id ? c.events : []));
  }

  ws(id: number): WsMessageRecord[] {
    return this.calls.flatMap((c) => (c.method === 'wsMessage' && c.record.exchangeId === id ? [c.record] : []));
  }

  /** Every string and every byte the sink was given, as one text (bytes read as latin1). */
  dump(): string {
    const parts: string[] = [];
    const walk = (v: unknown): void => {
      if (Buffer.isBuffer(v)) parts.push(v.toString('latin1'));
      else if (typeof v === 'string') parts.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => { parts.push(k); walk(x); });
      else parts.push(String(v));
    };
    walk(this.calls);
    return parts.join('\n');
  }
}

/** Builds tap events for one connection, with increasing times. */
export class TapScript {
  private t = 1_800_000_000_000;
  private nextExchange = 1;

  constructor(readonly connectionId = 1) {}

  time(): number {
    return (this.t += 1);
  }

  open(targetHost = 'api.example.test'): TapEvent {
    return { type: 'connection-opened', connectionId: this.connectionId, time: this.time(), clientAddress: '127.0.0.1',
      clientPort: 50000, targetHost, targetPort: 443, mode: 'intercept' };
  }

  close(): TapEvent {
    return { type: 'connection-closed', connectionId: this.connectionId, time: this.time(), bytesFromClient: 1, bytesToClient: 1 };
  }

  /** A whole HTTP exchange as events; bodies are split into `chunkSize` pieces. */
  http(options: {
    method?: string; url?: string; requestHeaders?: string[]; requestBody?: Buffer;
    status?: number; responseHeaders?: string[]; responseBody?: Buffer; chunkSize?: number; exchangeId?: number;
  }): { exchangeId: number; events: TapEvent[] } {
    const exchangeId = options.exchangeId ?? this.nextExchange++;
    const chunkSize = options.chunkSize ?? 1024;
    const events: TapEvent[] = [
      { type: 'request-head', exchangeId, connectionId: this.connectionId, time: this.time(), method: options.method ?? 'POST',
        url: options.url ?? 'https://api.example.test/v1/messages', httpVersion: '1.1', rawHeaders: options.requestHeaders ?? [], upgrade: false },
    ];
    for (const chunk of split(options.requestBody, chunkSize)) events.push({ type: 'request-body', exchangeId, time: this.time(), chunk });
    events.push({ type: 'request-end', exchangeId, time: this.time() });
    events.push({ type: 'response-head', exchangeId, time: this.time(), statusCode: options.status ?? 200, statusMessage: 'OK',
      rawHeaders: options.responseHeaders ?? [] });
    for (const chunk of split(options.responseBody, chunkSize)) events.push({ type: 'response-body', exchangeId, time: this.time(), chunk });
    events.push({ type: 'exchange-end', exchangeId, time: this.time(), outcome: 'complete' });
    return { exchangeId, events };
  }

  /** The start of a WebSocket exchange: upgrade request and 101 answer. */
  wsOpen(url: string, requestHeaders: string[], exchangeId = this.nextExchange++): { exchangeId: number; events: TapEvent[] } {
    return {
      exchangeId,
      events: [
        { type: 'request-head', exchangeId, connectionId: this.connectionId, time: this.time(), method: 'GET', url, httpVersion: '1.1',
          rawHeaders: requestHeaders, upgrade: true },
        { type: 'request-end', exchangeId, time: this.time() },
        { type: 'response-head', exchangeId, time: this.time(), statusCode: 101, statusMessage: 'Switching Protocols',
          rawHeaders: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Set-Cookie', '__cf_bm=wscookievalue123; Path=/; HttpOnly'] },
      ],
    };
  }
}

export function split(data: Buffer | undefined, size: number): Buffer[] {
  if (!data) return [];
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** A recorder over a RecordingSink; `run` feeds events and waits until all of them are processed. */
export function harness(options: CaptureRecorderOptions = {}): {
  sink: RecordingSink; recorder: CaptureRecorder; errors: string[];
  /** All events at once, as one batch from the proxy's thread. */
  run(events: TapEvent[]): Promise<void>;
  /** Each event handled before the next arrives, as on a slow connection. */
  runLive(events: TapEvent[]): Promise<void>;
} {
  const sink = new RecordingSink();
  const errors: string[] = [];
  const recorder = new CaptureRecorder(sink, { onError: (m) => errors.push(m), ...options });
  return {
    sink, recorder, errors,
    async run(events) {
      for (const e of events) recorder.handle(e);
      await recorder.flush();
    },
    async runLive(events) {
      for (const e of events) {
        recorder.handle(e);
        await recorder.flush();
      }
    },
  };
}

/** Raw headers from a {name: value} object (the fixtures' form). */
export function rawHeaders(headers: Record<string, string>): string[] {
  return Object.entries(headers).flat();
}
