// The activity log, newest first: every exchange, plus tunnels and TLS handshakes that failed
// (which have no exchange to show them). Shared by `llm-capture log` and the Activity view.
//
// A WebSocket is shown by its messages (count and payload bytes each way) and how it closed.
// Closing without a close frame (1006) is what Codex does after every turn, so it is an error
// only when the dissector says a response on the socket was cut off by it.
import type { ConnectionRecord, ExchangeRecord } from '../capture';
import { dissectExchange, matchRoute } from '../llm';
import type { CaptureStore, ExchangeSummary } from '../store';
import { readAllPages, wsMessagesOf } from './store-reading';

export interface WebSocketClose {
  /** The close code; 1006 means the socket ended without a close frame, 1005 a frame without a code. */
  code: number;
  /** The side that closed first. */
  by: 'client' | 'upstream';
  /** Whether a close frame was seen (false for 1006). */
  frame: boolean;
}

export interface LogEntry {
  /** Stable key: `x<exchange id>` or `c<connection id>`. */
  key: string;
  time: string;
  label?: string;
  method?: string;
  url: string;
  status?: number;
  /** The status is the proxy's own answer (it refused the request, or could not reach the upstream). */
  byProxy?: boolean;
  kind: string;
  requestBytes?: number;
  responseBytes?: number;
  /** Whole milliseconds. */
  durationMs?: number;
  /** WebSocket: data messages (text and binary), both ways. */
  messages?: number;
  /** WebSocket: payload bytes of those messages, each way. */
  messageBytesFromClient?: number;
  messageBytesToClient?: number;
  /** WebSocket: how it closed, once it has. */
  close?: WebSocketClose;
  error?: string;
}

/** How stores written before the close became a fact said it: as an error of the exchange. */
const LEGACY_CLOSE_ERROR = /^(client|upstream) closed without a close frame \(1006\)$/;
/** Proxy answers carry this header (x-llm-capture-error: 1). */
const PROXY_ANSWER_HEADER = 'x-llm-capture-error';

export function activity(store: CaptureStore, limit: number): LogEntry[] {
  const connections = new Map<number, ConnectionRecord | undefined>();
  const connection = (id: number) => {
    if (!connections.has(id)) connections.set(id, store.getConnection(id));
    return connections.get(id);
  };
  const entries: { at: number; entry: LogEntry }[] = [];
  for (const x of newest((o) => store.listExchanges(o), limit, () => true)) {
    entries.push({ at: x.startedAt, entry: fromExchange(store, x, connection(x.connectionId)) });
  }
  const shown = (c: ConnectionRecord) => c.mode === 'tunnel' || (c.tlsOutcome !== undefined && c.tlsOutcome !== 'ok');
  for (const c of newest((o) => store.listConnections(o), limit, shown)) entries.push({ at: c.openedAt, entry: fromConnection(c) });
  return entries.sort((a, b) => b.at - a.at).slice(0, limit).map((e) => e.entry);
}

/** The newest `limit` items that `keep` accepts, read page by page (the store hands out at most 1,000 a page). */
function newest<T>(page: (o: { limit: number; before?: number }) => { items: T[]; next?: number }, limit: number, keep: (item: T) => boolean): T[] {
  const out: T[] = [];
  let before: number | undefined;
  do {
    const p = page({ limit: Math.min(1000, limit), ...(before !== undefined ? { before } : {}) });
    for (const item of p.items) if (out.length < limit && keep(item)) out.push(item);
    before = p.next;
  } while (before !== undefined && out.length < limit);
  return out;
}

/** True when the response is the proxy's own answer rather than the upstream's. */
export function isProxyAnswer(x: Pick<ExchangeRecord, 'responseHeaders'>): boolean {
  return (x.responseHeaders ?? []).some(([name]) => name.toLowerCase() === PROXY_ANSWER_HEADER);
}

function fromExchange(store: CaptureStore, x: ExchangeSummary, c: ConnectionRecord | undefined): LogEntry {
  const entry: LogEntry = {
    key: `x${x.id}`,
    time: new Date(x.startedAt).toISOString(),
    ...(c?.label ? { label: c.label } : {}),
    method: x.method,
    url: x.url,
    ...(x.statusCode ? { status: x.statusCode } : {}),
    ...(isProxyAnswer(x) ? { byProxy: true } : {}),
    kind: x.kind,
    requestBytes: x.requestBody?.wireSize ?? 0,
    responseBytes: x.responseBody?.wireSize ?? 0,
    ...(x.endedAt ? { durationMs: Math.round(x.endedAt - x.startedAt) } : {}),
  };
  // An upgrade that was refused (426, the proxy's 502) carried a body, not messages.
  const errors = x.kind === 'websocket' && x.statusCode === 101 ? webSocketDetails(store, x, entry) : x.errors;
  if (errors.length > 0) entry.error = errors.join('; ');
  return entry;
}

/** Fills in a WebSocket's messages and close; returns the exchange's errors as they stand with the close read as a fact. */
function webSocketDetails(store: CaptureStore, x: ExchangeSummary, entry: LogEntry): string[] {
  let count = 0;
  let fromClient = 0;
  let toClient = 0;
  const messages = readAllPages((after) => store.listWsMessages(x.id, { limit: 1000, after, includeData: false }));
  for (const m of messages) {
    if (m.opcode === 'close') {
      entry.close ??= closeOf(m.data.toString('utf8'), m.direction);
      continue;
    }
    if (m.opcode !== 'text' && m.opcode !== 'binary') continue;
    count++;
    if (m.direction === 'client-to-server') fromClient += m.size;
    else toClient += m.size;
  }
  entry.messages = count;
  entry.messageBytesFromClient = fromClient;
  entry.messageBytesToClient = toClient;
  const legacy = x.errors.find((e) => LEGACY_CLOSE_ERROR.test(e));
  if (legacy && !entry.close) entry.close = { code: 1006, by: legacy.startsWith('client') ? 'client' : 'upstream', frame: false };
  const errors = x.errors.filter((e) => !LEGACY_CLOSE_ERROR.test(e));
  if (entry.close?.code === 1006 && x.endedAt !== undefined && cutOffResponse(store, x)) {
    errors.push(`${entry.close.by} closed without a close frame (1006) while a response was unfinished`);
  }
  return errors;
}

function closeOf(text: string, direction: string): WebSocketClose {
  const code = Number.parseInt(text, 10);
  return { code: Number.isFinite(code) ? code : 1005, by: direction === 'client-to-server' ? 'client' : 'upstream', frame: code !== 1006 };
}

/** Per store: exchange id → whether the socket's end cut off a response (ids never repeat in a store). */
const cutOffCache = new WeakMap<CaptureStore, Map<number, boolean>>();
const CUT_OFF_CACHE_SIZE = 2000;

/** True when the dissector found a response on this (ended) socket that its end cut off. */
function cutOffResponse(store: CaptureStore, x: ExchangeSummary): boolean {
  if (!matchRoute(x as unknown as ExchangeRecord)) return false;
  let cache = cutOffCache.get(store);
  if (!cache) cutOffCache.set(store, (cache = new Map()));
  const known = cache.get(x.id);
  if (known !== undefined) return known;
  const exchange = store.getExchange(x.id);
  const cut = exchange !== undefined && dissectExchange({ exchange, wsMessages: wsMessagesOf(store, x.id) }).some((c) => c.unfinished === true);
  if (cache.size >= CUT_OFF_CACHE_SIZE) cache.clear();
  cache.set(x.id, cut);
  return cut;
}

function fromConnection(c: ConnectionRecord): LogEntry {
  const error = c.tlsOutcome && c.tlsOutcome !== 'ok' ? (c.tlsDetail ?? c.tlsOutcome) : c.error;
  return {
    key: `c${c.id}`,
    time: new Date(c.openedAt).toISOString(),
    ...(c.label ? { label: c.label } : {}),
    url: `${c.targetHost}:${c.targetPort}`,
    ...(c.connectStatus ? { status: c.connectStatus, byProxy: true } : {}),
    kind: c.mode === 'tunnel' ? 'tunnel' : 'tls',
    ...(c.bytesFromClient !== undefined ? { requestBytes: c.bytesFromClient } : {}),
    ...(c.bytesToClient !== undefined ? { responseBytes: c.bytesToClient } : {}),
    ...(c.closedAt ? { durationMs: Math.round(c.closedAt - c.openedAt) } : {}),
    ...(error ? { error } : {}),
  };
}
