// Turns the proxy's tap events into decoded, redacted records for the store.
// Runs off the forwarding path (docs/decisions.md, decision 7): the tap delivers copies on a later
// turn of the event loop, `handle` never throws, and anything that fails here (a decoder, the
// sink) becomes an error on the record, never a problem for the client.
//
// Each exchange's events are processed strictly in order on a promise chain of its own, because
// decoding is asynchronous (zlib runs on the thread pool) while the sink must see an exchange's
// calls in order: head, live SSE events, then the final record. Exchanges do not wait for each
// other, except that final records leave in the order the exchanges ended: a session assembled
// live must meet a call before the call that follows it (docs/decisions.md, decision 80). An
// exchange's state, bodies included, is dropped once its final record is out.
import type { TapEvent, RequestHead } from '../proxy/tap';
import type { CaptureSink, ExchangeRecord, WsMessageRecord } from './records';
import { BodyDecoder, DEFAULT_MAX_BODY_BYTES } from './content-decoding';
import { finishBody, type BodySide } from './body-finishing';
import { ConnectionRecords } from './connection-records';
import { mediaType, Redactor } from './redaction';
import { sseEventRecord, SseStream } from './sse-stream';

export interface CaptureRecorderOptions {
  /** Bytes kept per body and per WebSocket message (decoded size); default 64 MiB. */
  maxBodyBytes?: number;
  /** Header names to redact beyond the defaults. */
  redactHeaders?: string[];
  /** JSON, form and query field names to redact beyond the defaults. */
  redactFields?: string[];
  /** Problems that belong to no record (events for unknown exchanges, a sink failing on a connection). */
  onError?: (message: string) => void;
  /** How long an exchange may stay open after its connection closed before it is finished anyway. */
  orphanGraceMs?: number;
}

interface ExchangeState {
  record: ExchangeRecord;
  chain: Promise<void>;
  upgrade: boolean;
  requestContentType?: string;
  requestEncoding?: string;
  requestDecoder?: BodyDecoder;
  requestFinished: boolean;
  responseContentType?: string;
  responseEncoding?: string;
  responseDecoder?: BodyDecoder;
  responseFinished: boolean;
  sse?: SseStream;
  sseSeq: number;
  lastResponseChunkTime: number;
  wsSeq: number;
  /** The code of the first WebSocket close recorded (1006: the socket closed without a close frame). */
  wsCloseCode?: number;
  orphanTimer?: NodeJS.Timeout;
  /** Steps queued that end by sending the record to the sink (see `enqueueUpdate`). */
  updatesQueued: number;
}

const MAX_ERRORS_PER_EXCHANGE = 100;
/** A final record waits at most this long for the one before it: a body that never finishes must not hold up the rest. */
const FINAL_ORDER_WAIT_MS = 2000;

function settledWithin(done: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    void done.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class CaptureRecorder {
  private readonly maxBodyBytes: number;
  private readonly redactor: Redactor;
  private readonly connections: ConnectionRecords;
  private readonly exchanges = new Map<number, ExchangeState>();
  /** Chains of exchanges that ended and are writing their final record. */
  private readonly finishing = new Set<Promise<void>>();
  /** The chain of the exchange that ended last: its final record goes out before the next one's. Never rejects. */
  private lastFinal: { done: Promise<void>; settled: boolean } = { done: Promise.resolve(), settled: true };

  constructor(private readonly sink: CaptureSink, private readonly options: CaptureRecorderOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.redactor = new Redactor({ headers: options.redactHeaders, fields: options.redactFields });
    this.connections = new ConnectionRecords(sink, (m) => this.report(m));
    // So that `tap.subscribe(recorder.handle)` works unbound.
    this.handle = this.handle.bind(this);
  }

  /** Takes one tap event. Never throws; returns before any decoding is done. */
  handle(event: TapEvent): void {
    try {
      this.dispatch(event);
    } catch (e) {
      this.report(`capture failed on a ${event.type} event: ${messageOf(e)}`);
    }
  }

  /** Exchanges whose end has not been handled yet (their state is held until then). */
  get openExchanges(): number {
    return this.exchanges.size;
  }

  /** Resolves once every event handled so far has been fully processed (for tests and shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      const tails = [...[...this.exchanges.values()].map((s) => s.chain), ...this.finishing];
      await Promise.all(tails);
      const again = [...[...this.exchanges.values()].map((s) => s.chain), ...this.finishing];
      if (again.every((t) => tails.includes(t)) && this.finishing.size === 0) return;
    }
  }

  private dispatch(event: TapEvent): void {
    switch (event.type) {
      case 'connection-opened': return this.connections.opened(event);
      case 'tls-handshake': return this.connections.handshake(event);
      case 'connection-closed': {
        this.connections.closed(event);
        this.scheduleOrphans(event.connectionId);
        return;
      }
      case 'request-head': return this.requestHead(event);
      case 'request-body': return this.onExchange(event.exchangeId, event.type, (s) => {
        s.requestDecoder ??= new BodyDecoder({ contentEncoding: s.requestEncoding, maxBytes: this.maxBodyBytes });
        s.requestDecoder.write(event.chunk);
      });
      case 'request-end': return this.onExchange(event.exchangeId, event.type, async (s) => {
        s.record.requestEndedAt = event.time;
        await this.finishBody(s, 'request');
      }, true);
      case 'response-head': return this.onExchange(event.exchangeId, event.type, (s) => {
        const r = s.record;
        r.statusCode = event.statusCode;
        r.statusMessage = event.statusMessage;
        r.responseHeaders = this.redactor.headers(event.rawHeaders);
        r.responseStartedAt = event.time;
        s.responseContentType = header(event.rawHeaders, 'content-type');
        s.responseEncoding = header(event.rawHeaders, 'content-encoding');
        if (!s.upgrade && mediaType(s.responseContentType) === 'text/event-stream') {
          r.kind = 'sse';
          s.sse = new SseStream({ maxBufferChars: this.maxBodyBytes });
        }
      }, true);
      case 'response-body': return this.onExchange(event.exchangeId, event.type, (s) => {
        s.lastResponseChunkTime = event.time;
        s.responseDecoder ??= new BodyDecoder({
          contentEncoding: s.responseEncoding,
          maxBytes: this.maxBodyBytes,
          onData: s.sse ? (chunk) => this.sseData(s, chunk) : undefined,
        });
        s.responseDecoder.write(event.chunk);
      });
      case 'ws-message': return this.onExchange(event.exchangeId, event.type, (s) => {
        let data = event.opcode === 'text' ? this.redactor.body(event.data, undefined) : event.data;
        if (data.length > this.maxBodyBytes) {
          this.addError(s, `WebSocket message ${s.wsSeq} is larger than the ${this.maxBodyBytes}-byte capture limit; kept the first ${this.maxBodyBytes} bytes`);
          data = data.subarray(0, this.maxBodyBytes);
        }
        this.wsMessage(s, { exchangeId: event.exchangeId, seq: s.wsSeq++, time: event.time, direction: event.direction,
          opcode: event.opcode, data, size: event.data.length });
      });
      case 'ws-close': return this.onExchange(event.exchangeId, event.type, (s) => {
        // 1005 and 1006 are never sent on the wire (RFC 6455 §7.4.1): no close frame, no payload.
        const size = event.code === 1005 || event.code === 1006 ? 0 : 2 + Buffer.byteLength(event.reason);
        const text = event.reason ? `${event.code} ${event.reason}` : String(event.code);
        s.wsCloseCode ??= event.code;
        this.wsMessage(s, { exchangeId: event.exchangeId, seq: s.wsSeq++, time: event.time, direction: event.direction,
          opcode: 'close', data: Buffer.from(text, 'utf8'), size });
      });
      case 'exchange-end': {
        const state = this.exchanges.get(event.exchangeId);
        if (!state) return this.report(`exchange-end for unknown exchange ${event.exchangeId}`);
        this.finish(state, (r) => {
          r.endedAt = event.time;
          r.outcome = event.outcome;
          // A socket that ends without a close frame (Codex, after every turn) is a fact, kept as
          // its close message (code 1006, no payload) and the outcome, not an error: whether a
          // response was cut off by it is for the dissector to tell.
          const closeWithoutFrame = state.upgrade && state.wsCloseCode === 1006 && event.outcome !== 'complete';
          if (event.error !== undefined && !closeWithoutFrame) this.addError(state, event.error);
        });
        return;
      }
      case 'error': {
        const message = event.code ? `${event.message} (${event.code})` : event.message;
        const state = event.exchangeId !== undefined ? this.exchanges.get(event.exchangeId) : undefined;
        if (state) return this.enqueue(state, () => this.addError(state, message));
        if (event.connectionId !== undefined && this.connections.has(event.connectionId)) {
          return this.connections.error(event.connectionId, message);
        }
        return this.report(`proxy error: ${message}`);
      }
      case 'tap-overflow': {
        const message = `capture fell behind: the tap dropped ${event.droppedEvents} events (${event.droppedBytes} bytes) ` +
          'while this exchange was in flight; its bodies or messages may be incomplete';
        for (const state of this.exchanges.values()) this.enqueue(state, () => this.addError(state, message));
        return this.report(`capture fell behind: the tap dropped ${event.droppedEvents} events (${event.droppedBytes} bytes)`);
      }
    }
  }

  private requestHead(event: RequestHead): void {
    const state: ExchangeState = {
      record: {
        id: event.exchangeId, connectionId: event.connectionId, method: event.method,
        url: this.redactor.url(event.url), httpVersion: event.httpVersion,
        kind: event.upgrade ? 'websocket' : 'http',
        requestHeaders: this.redactor.headers(event.rawHeaders),
        startedAt: event.time, errors: [],
      },
      chain: Promise.resolve(),
      upgrade: event.upgrade,
      requestContentType: header(event.rawHeaders, 'content-type'),
      requestEncoding: header(event.rawHeaders, 'content-encoding'),
      requestFinished: false, responseFinished: false,
      sseSeq: 0, wsSeq: 0, lastResponseChunkTime: event.time, updatesQueued: 0,
    };
    this.exchanges.set(event.exchangeId, state);
    try {
      this.sink.exchangeStarted?.(event.exchangeId, event.time);
    } catch (e) {
      this.addError(state, `sink.exchangeStarted failed: ${messageOf(e)}`);
    }
    this.enqueueUpdate(state, () => undefined);
  }

  /** `update`: the step ends by sending the record to the sink. */
  private onExchange(id: number, type: string, step: (s: ExchangeState) => void | Promise<void>, update = false): void {
    const state = this.exchanges.get(id);
    if (!state) return this.report(`${type} for unknown exchange ${id}`);
    if (update) this.enqueueUpdate(state, () => step(state));
    else this.enqueue(state, () => step(state));
  }

  /**
   * A step, then the record to the sink. When a later such step is queued already (the proxy
   * sends a fast exchange's events in one batch), the record is left to it: it sends a newer one,
   * and each update costs a store operation (head, request end, response head: 4 became 2 a call).
   * The final record is always sent.
   */
  private enqueueUpdate(state: ExchangeState, step: () => void | Promise<void>, final = false): void {
    state.updatesQueued++;
    this.enqueue(state, async () => {
      try {
        await step();
      } finally {
        state.updatesQueued--;
      }
      if (final || state.updatesQueued === 0) this.emit(state);
    });
  }

  private enqueue(state: ExchangeState, step: () => void | Promise<void>): void {
    state.chain = state.chain.then(step).catch((e: unknown) => this.addError(state, `capture failed: ${messageOf(e)}`));
  }

  /** Finishes an exchange: both bodies, the final record, and the state is let go. */
  private finish(state: ExchangeState, change: (r: ExchangeRecord) => void): void {
    this.exchanges.delete(state.record.id);
    clearTimeout(state.orphanTimer);
    const previousFinal = this.lastFinal;
    this.enqueueUpdate(state, async () => {
      // Each part on its own, so that one failing cannot keep the final record from the sink.
      for (const side of ['request', 'response'] as const) {
        try {
          await this.finishBody(state, side);
        } catch (e) {
          this.addError(state, `capture of the ${side} body failed: ${messageOf(e)}`);
        }
      }
      // Bodies finish in parallel; only the final record waits for the one of the exchange that ended before.
      if (!previousFinal.settled) await settledWithin(previousFinal.done, FINAL_ORDER_WAIT_MS);
      change(state.record);
    }, true);
    const done = state.chain;
    const final = { done, settled: false };
    this.lastFinal = final;
    this.finishing.add(done);
    void done.finally(() => {
      final.settled = true;
      this.finishing.delete(done);
    });
  }

  /** Exchanges still open when their connection closed are finished after a grace period. */
  private scheduleOrphans(connectionId: number): void {
    for (const state of this.exchanges.values()) {
      if (state.record.connectionId !== connectionId || state.orphanTimer) continue;
      state.orphanTimer = setTimeout(() => {
        if (this.exchanges.get(state.record.id) !== state) return;
        this.finish(state, (r) => {
          this.addError(state, 'the connection closed and the proxy never reported the end of this exchange');
          r.endedAt ??= r.responseStartedAt ?? r.requestEndedAt ?? r.startedAt;
        });
      }, this.options.orphanGraceMs ?? 5000);
      state.orphanTimer.unref();
    }
  }

  private async finishBody(state: ExchangeState, which: BodySide): Promise<void> {
    const isRequest = which === 'request';
    if (isRequest ? state.requestFinished : state.responseFinished) return;
    if (isRequest) state.requestFinished = true;
    else state.responseFinished = true;
    const decoder = isRequest ? state.requestDecoder : state.responseDecoder;
    if (isRequest) state.requestDecoder = undefined;
    else state.responseDecoder = undefined;
    const problems: string[] = [];
    if (decoder) {
      const contentType = isRequest ? state.requestContentType : state.responseContentType;
      const body = finishBody(await decoder.end(), contentType, which, this.redactor, problems);
      if (isRequest) state.record.requestBody = body;
      else state.record.responseBody = body;
    }
    if (!isRequest && state.sse) {
      state.sse.end();
      problems.push(...state.sse.errors);
      state.sse = undefined;
    }
    const body = isRequest ? state.record.requestBody : state.record.responseBody;
    if (body && problems.length > 0) body.error = problems.join('; ');
    for (const p of problems) this.addError(state, p.startsWith(`${which} body`) ? p : `${which} body: ${p}`);
  }

  private sseData(state: ExchangeState, chunk: Buffer): void {
    try {
      const events = state.sse?.push(chunk) ?? [];
      if (events.length === 0) return;
      const records = events.map((e) => sseEventRecord(e, state.sseSeq++, state.lastResponseChunkTime, this.redactor.jsonText(e.data)));
      try {
        this.sink.sseEvents(state.record.id, records);
      } catch (e) {
        this.addError(state, `sink.sseEvents failed: ${messageOf(e)}`);
      }
    } catch (e) {
      this.addError(state, `capture of SSE events failed: ${messageOf(e)}`);
    }
  }

  private wsMessage(state: ExchangeState, record: WsMessageRecord): void {
    try {
      this.sink.wsMessage(record);
    } catch (e) {
      this.addError(state, `sink.wsMessage failed: ${messageOf(e)}`);
    }
  }

  /** Hands the sink a snapshot: later changes to the state must not show through. */
  private emit(state: ExchangeState): void {
    try {
      this.sink.exchangeUpdated({ ...state.record, errors: [...state.record.errors] });
    } catch (e) {
      this.addError(state, `sink.exchangeUpdated failed: ${messageOf(e)}`);
    }
  }

  private addError(state: ExchangeState, message: string): void {
    const errors = state.record.errors;
    if (errors.length < MAX_ERRORS_PER_EXCHANGE) errors.push(message);
    else if (errors.length === MAX_ERRORS_PER_EXCHANGE) errors.push('… further errors were not recorded');
    if (message.startsWith('sink.')) this.report(`exchange ${state.record.id}: ${message}`);
  }

  private report(message: string): void {
    try {
      this.options.onError?.(message);
    } catch {
      // A failing error reporter must not break capture either.
    }
  }
}

function header(rawHeaders: readonly string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1]);
  }
  // Repeated list headers (Content-Encoding) combine with commas (RFC 9110 §5.3).
  return values.length === 0 ? undefined : values.join(', ');
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
