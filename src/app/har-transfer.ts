// HAR export and import over a store, shared by the CLI and the extension.
// Import redacts like live capture does: a HAR saved by a browser or another proxy carries the
// user's keys in the clear, and secrets must never reach the store (ARCHITECTURE.md, decision 7).
import { Redactor, SseStream, type ExchangeRecord, type StoredBody } from '../capture';
import { fromHar, parseHar, toHar, type HarSource } from '../har';
import type { CaptureStore } from '../store';
import { allExchangeSummaries, wsMessagesOf } from './store-reading';

export const HAR_CREATOR_VERSION = '0.1.0';

/** The whole store as a HAR document (an object; JSON.stringify it to write). */
export function exportHar(store: CaptureStore, version = HAR_CREATOR_VERSION): ReturnType<typeof toHar> {
  return toHar(allExchanges(store), version);
}

/** Parses HAR text and stores its entries, redacted, through a writer store. Returns the entry count. */
export async function importHar(store: CaptureStore, text: string): Promise<number> {
  const har = parseHar(text);
  const imported = fromHar(har, { nextConnectionId: 1, nextExchangeId: 1 });
  const redactor = new Redactor();
  for (const c of imported.connections) store.connectionUpdated(c);
  for (const x of imported.exchanges) {
    const redacted = redactExchange(x, redactor);
    store.exchangeUpdated(redacted);
    if (redacted.kind === 'sse' && redacted.responseBody) store.sseEvents(redacted.id, sseEvents(redacted));
  }
  for (const m of imported.wsMessages) {
    store.wsMessage(m.opcode === 'text' ? { ...m, data: redactor.body(m.data, undefined) } : m);
  }
  await store.flush();
  return imported.exchanges.length;
}

/** Every stored exchange, oldest first, with its connection and WebSocket messages. */
function* allExchanges(store: CaptureStore): Generator<HarSource> {
  for (const { id } of allExchangeSummaries(store)) {
    const exchange = store.getExchange(id);
    if (!exchange) continue;
    const wsMessages = exchange.kind === 'websocket' ? wsMessagesOf(store, id) : [];
    yield { exchange, connection: store.getConnection(exchange.connectionId), wsMessages };
  }
}

function redactExchange(x: ExchangeRecord, redactor: Redactor): ExchangeRecord {
  const contentType = (headers: [string, string][] | undefined) => headers?.find(([n]) => n.toLowerCase() === 'content-type')?.[1];
  const body = (b: StoredBody | undefined, ct: string | undefined) => (b ? { ...b, data: redactor.body(b.data, ct) } : undefined);
  return {
    ...x,
    url: redactor.url(x.url),
    requestHeaders: redactor.headers(x.requestHeaders.flat()),
    ...(x.responseHeaders ? { responseHeaders: redactor.headers(x.responseHeaders.flat()) } : {}),
    ...(x.requestBody ? { requestBody: body(x.requestBody, contentType(x.requestHeaders)) } : {}),
    ...(x.responseBody ? { responseBody: body(x.responseBody, contentType(x.responseHeaders)) } : {}),
  };
}

function sseEvents(x: ExchangeRecord) {
  const stream = new SseStream();
  const events = stream.push(x.responseBody?.data ?? Buffer.alloc(0));
  stream.end();
  const time = x.responseStartedAt ?? x.startedAt;
  return events.map((e, seq) => ({ seq, time, data: e.data, ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}) }));
}
