// What capture hands to the store: decoded, redacted records. The store implements CaptureSink;
// the composition root (src/cli, src/extension) connects the two (docs/architecture.md, "Layers").

export type ExchangeKind = 'http' | 'sse' | 'websocket' | 'tunnel';

export interface ConnectionRecord {
  id: number;
  clientAddress: string;
  clientPort: number;
  label?: string;
  targetHost: string;
  targetPort: number;
  mode: 'intercept' | 'tunnel' | 'plain-http';
  /** e.g. 'ok', 'client-rejected-certificate', 'failed' */
  tlsOutcome?: string;
  tlsDetail?: string;
  openedAt: number;
  closedAt?: number;
  bytesFromClient?: number;
  bytesToClient?: number;
  error?: string;
  /** The proxy's own answer to a CONNECT it refused (502: not allowed, or the upstream unreachable). */
  connectStatus?: number;
}

/** A body as stored: decoded (content-encoding removed) and redacted, or raw when decoding failed. */
export interface StoredBody {
  /** The bytes kept: decoded when `decoded` is true, else as on the wire. */
  data: Buffer;
  /** Size on the wire (before decoding). */
  wireSize: number;
  /** The content-encoding that was on the wire ('' for none). */
  encoding: string;
  decoded: boolean;
  /** True when cut at the size limit (the marker says so explicitly). */
  truncated: boolean;
  /** Why decoding failed, or anything else wrong with the body. */
  error?: string;
}

export interface SseEventRecord {
  seq: number;
  time: number;
  event?: string;
  id?: string;
  data: string;
  /** A `retry` field (reconnection time in ms) seen since the previous event. */
  retry?: number;
}

export interface ExchangeRecord {
  id: number;
  connectionId: number;
  method: string;
  /** Redacted absolute URL. */
  url: string;
  httpVersion: string;
  kind: ExchangeKind;
  statusCode?: number;
  statusMessage?: string;
  /** Redacted headers as [name, value] pairs, case and order kept. */
  requestHeaders: [string, string][];
  responseHeaders?: [string, string][];
  requestBody?: StoredBody;
  responseBody?: StoredBody;
  startedAt: number;
  requestEndedAt?: number;
  responseStartedAt?: number;
  endedAt?: number;
  outcome?: 'complete' | 'client-aborted' | 'upstream-error' | 'refused';
  /** Errors of the exchange itself and of decoding its copy, in order. */
  errors: string[];
  /** When it was imported from a HAR file: retention counts its age from then, not from when it happened. */
  importedAt?: number;
}

export interface WsMessageRecord {
  exchangeId: number;
  seq: number;
  time: number;
  direction: 'client-to-server' | 'server-to-client';
  opcode: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** Redacted payload (for close: the code and reason as text). */
  data: Buffer;
  size: number;
}

/**
 * Where capture writes. Calls come in order per exchange. `exchangeUpdated` may be called
 * several times as an exchange progresses (head, live SSE events, end); the last call holds the final record.
 */
export interface CaptureSink {
  /**
   * An exchange began (its request head, in the order the proxy saw them). Writes nothing: the
   * store numbers exchanges in this order, though their first records may come in another
   * (docs/decisions.md, decision 80).
   */
  exchangeStarted?(exchangeId: number, startedAt: number): void;
  connectionUpdated(record: ConnectionRecord): void;
  exchangeUpdated(record: ExchangeRecord): void;
  sseEvents(exchangeId: number, events: SseEventRecord[]): void;
  wsMessage(record: WsMessageRecord): void;
}
