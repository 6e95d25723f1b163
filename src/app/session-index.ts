// Stored exchanges → LLM calls → sessions. The dissectors and the assembler are pure; this is
// the I/O around them: it pages through the store, reads the bodies, events and messages an
// LLM exchange needs, and feeds the assembler in capture order.
import type { ExchangeRecord, WsMessageRecord } from '../capture';
import { Assembler } from '../conversation';
import { DEFAULT_ROUTES, dissectExchange, matchRoute, type LlmCall, type Route } from '../llm';
import type { CaptureStore } from '../store';

const PAGE = 500;

/** Every LLM call in the store, oldest first. */
export function loadLlmCalls(store: CaptureStore, routes: readonly Route[] = DEFAULT_ROUTES): LlmCall[] {
  const ids: number[] = [];
  let before: number | undefined;
  do {
    const page = store.listExchanges({ limit: PAGE, before });
    for (const summary of page.items) {
      // The summary has the URL, method and kind, which is all routing looks at.
      if (matchRoute(summary as unknown as ExchangeRecord, routes)) ids.push(summary.id);
    }
    before = page.next;
  } while (before !== undefined);
  ids.reverse();

  const calls: LlmCall[] = [];
  for (const id of ids) {
    const exchange = store.getExchange(id);
    if (!exchange) continue;
    const sseEvents = exchange.kind === 'sse' ? readAll((after) => store.listSseEvents(id, { limit: 1000, after })) : undefined;
    const wsMessages = exchange.kind === 'websocket' ? readWsMessages(store, id) : undefined;
    calls.push(...dissectExchange({ exchange, sseEvents, wsMessages }, routes));
  }
  return calls;
}

export function assembleSessions(store: CaptureStore, routes?: readonly Route[]): Assembler {
  const assembler = new Assembler();
  for (const call of loadLlmCalls(store, routes)) assembler.add(call);
  return assembler;
}

function readWsMessages(store: CaptureStore, exchangeId: number): WsMessageRecord[] {
  const stored = readAll((after) => store.listWsMessages(exchangeId, { limit: 1000, after }));
  return stored.map(({ bodyId, ...m }) => (bodyId !== undefined && m.data.length === 0 ? { ...m, data: store.getBody(bodyId) ?? m.data } : m));
}

/** Follows a sequence cursor to the end. */
function readAll<T>(page: (after: number | undefined) => { items: T[]; next?: number }): T[] {
  const out: T[] = [];
  let after: number | undefined;
  do {
    const p = page(after);
    out.push(...p.items);
    after = p.next;
  } while (after !== undefined);
  return out;
}
