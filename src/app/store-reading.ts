// Reading whole sequences out of the paged store: every exchange in capture order, every
// event or message of one exchange, WebSocket payloads included.
import type { WsMessageRecord } from '../capture';
import type { CaptureStore, ExchangeSummary } from '../store';

/** Follows a page cursor to the end. */
export function readAllPages<T>(page: (cursor: number | undefined) => { items: T[]; next?: number }): T[] {
  const out: T[] = [];
  let cursor: number | undefined;
  do {
    const p = page(cursor);
    out.push(...p.items);
    cursor = p.next;
  } while (cursor !== undefined);
  return out;
}

/** Every exchange summary, oldest first (the store lists newest first). */
export function allExchangeSummaries(store: CaptureStore): ExchangeSummary[] {
  return readAllPages((before) => store.listExchanges({ limit: 1000, before })).reverse();
}

/** The messages of one WebSocket exchange, with payloads kept in the body store filled in. */
export function wsMessagesOf(store: CaptureStore, exchangeId: number): WsMessageRecord[] {
  return readAllPages((after) => store.listWsMessages(exchangeId, { limit: 1000, after }))
    .map(({ bodyId, ...m }) => (bodyId !== undefined && m.data.length === 0 ? { ...m, data: store.getBody(bodyId) ?? m.data } : m));
}
