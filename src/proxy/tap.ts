// The proxy's tap: typed events that later layers (capture, store) consume.
// Forwarding never waits for a consumer: events are queued and delivered on a later
// turn of the event loop, each listener is isolated, and a backlog beyond a budget
// drops body bytes (with a recorded overflow) rather than growing without bound.

export type ConnectionMode = 'intercept' | 'tunnel' | 'plain-http';

export interface ConnectionOpened {
  type: 'connection-opened';
  connectionId: number;
  time: number;
  clientAddress: string;
  clientPort: number;
  /** The terminal label from proxy credentials, if the client sent them. */
  label?: string;
  targetHost: string;
  targetPort: number;
  mode: ConnectionMode;
}

/** The outcome of the TLS handshake between the client and us (intercepted connections only). */
export interface TlsHandshake {
  type: 'tls-handshake';
  connectionId: number;
  time: number;
  outcome: 'ok' | 'client-rejected-certificate' | 'failed';
  servername?: string;
  alpnProtocol?: string;
  detail?: string;
}

export interface ConnectionClosed {
  type: 'connection-closed';
  connectionId: number;
  time: number;
  bytesFromClient: number;
  bytesToClient: number;
  error?: string;
  /** The proxy's own answer to the CONNECT when it refused it (a tunnel it could not open). */
  connectStatus?: number;
}

export interface RequestHead {
  type: 'request-head';
  exchangeId: number;
  connectionId: number;
  time: number;
  method: string;
  /** Absolute URL as the client meant it (the original host, not a mapped address). */
  url: string;
  httpVersion: string;
  /** Headers as the client sent them: [name, value, name, value, …], case and order kept. */
  rawHeaders: string[];
  /** True for a WebSocket upgrade request. */
  upgrade: boolean;
}

export interface BodyChunk {
  type: 'request-body' | 'response-body';
  exchangeId: number;
  time: number;
  chunk: Buffer;
}

export interface RequestEnd {
  type: 'request-end';
  exchangeId: number;
  time: number;
}

/** The upstream's answer, or the proxy's own (a 502 when it refused or could not reach the upstream: `x-llm-capture-error: 1` among its headers). */
export interface ResponseHead {
  type: 'response-head';
  exchangeId: number;
  time: number;
  statusCode: number;
  statusMessage: string;
  rawHeaders: string[];
}

export type WebSocketDirection = 'client-to-server' | 'server-to-client';

export interface WebSocketMessage {
  type: 'ws-message';
  exchangeId: number;
  time: number;
  direction: WebSocketDirection;
  opcode: 'text' | 'binary' | 'ping' | 'pong';
  data: Buffer;
}

export interface WebSocketClose {
  type: 'ws-close';
  exchangeId: number;
  time: number;
  /** Which side closed first. */
  direction: WebSocketDirection;
  code: number;
  reason: string;
}

export type ExchangeOutcome = 'complete' | 'client-aborted' | 'upstream-error' | 'refused';

export interface ExchangeEnd {
  type: 'exchange-end';
  exchangeId: number;
  time: number;
  outcome: ExchangeOutcome;
  error?: string;
}

export interface ProxyErrorEvent {
  type: 'error';
  time: number;
  connectionId?: number;
  exchangeId?: number;
  message: string;
  code?: string;
}

/** Emitted once when the tap had to drop events because consumers fell behind. */
export interface TapOverflow {
  type: 'tap-overflow';
  time: number;
  droppedEvents: number;
  droppedBytes: number;
}

export type TapEvent =
  | ConnectionOpened | TlsHandshake | ConnectionClosed
  | RequestHead | BodyChunk | RequestEnd | ResponseHead
  | WebSocketMessage | WebSocketClose | ExchangeEnd
  | ProxyErrorEvent | TapOverflow;

export type TapListener = (event: TapEvent) => void | Promise<void>;

/** High-resolution wall-clock time in milliseconds since the epoch. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface TapOptions {
  /** Body bytes that may wait for consumers before new body chunks are dropped. */
  maxQueuedBytes?: number;
  /** Reports a listener's exception (the tap itself never rethrows). */
  onListenerError?: (error: unknown) => void;
}

export class Tap {
  private readonly listeners = new Set<TapListener>();
  private queue: TapEvent[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private dropped = { events: 0, bytes: 0 };
  private drainWaiters: (() => void)[] = [];
  private readonly maxQueuedBytes: number;

  constructor(private readonly options: TapOptions = {}) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 256 * 1024 * 1024;
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: TapListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TapEvent): void {
    if (this.listeners.size === 0) return;
    const size = eventBytes(event);
    if (size > 0 && this.queuedBytes + size > this.maxQueuedBytes) {
      this.dropped.events++;
      this.dropped.bytes += size;
      return;
    }
    this.queuedBytes += size;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Resolves once every event emitted so far has been handed to the listeners. */
  drained(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drain(): void {
    this.scheduled = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.dropped.events > 0) {
      batch.unshift({ type: 'tap-overflow', time: now(), droppedEvents: this.dropped.events, droppedBytes: this.dropped.bytes });
      this.dropped = { events: 0, bytes: 0 };
    }
    for (const event of batch) {
      for (const listener of this.listeners) {
        try {
          const result = listener(event);
          if (result && typeof result.catch === 'function') result.catch((e) => this.reportError(e));
        } catch (e) {
          this.reportError(e);
        }
      }
    }
    for (const resolve of waiters) resolve();
  }

  private reportError(error: unknown): void {
    try {
      this.options.onListenerError?.(error);
    } catch {
      // A broken error reporter must not break the tap either.
    }
  }
}

/** Body bytes an event carries (what the queue bounds count). */
export function eventBytes(event: TapEvent): number {
  if (event.type === 'request-body' || event.type === 'response-body') return event.chunk.length;
  if (event.type === 'ws-message') return event.data.length;
  return 0;
}
