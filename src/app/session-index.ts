// Stored exchanges → LLM calls → sessions. The dissectors and the assembler are pure; this is
// the I/O around them: it pages through the store, reads the bodies, events and messages an
// LLM exchange needs, and feeds the assembler in capture order.
import type { ExchangeRecord } from '../capture';
import { Assembler } from '../conversation';
import { DEFAULT_ROUTES, dissectExchange, matchRoute, type LlmCall, type Route } from '../llm';
import type { CaptureStore } from '../store';
import { allExchangeSummaries, readAllPages, wsMessagesOf } from './store-reading';

/** Every LLM call in the store, oldest first. */
export function loadLlmCalls(store: CaptureStore, routes: readonly Route[] = DEFAULT_ROUTES): LlmCall[] {
  const calls: LlmCall[] = [];
  for (const summary of allExchangeSummaries(store)) {
    // The summary has the URL, method and kind, which is all routing looks at.
    if (!matchRoute(summary as unknown as ExchangeRecord, routes)) continue;
    const exchange = store.getExchange(summary.id);
    if (!exchange) continue;
    const sseEvents = exchange.kind === 'sse' ? readAllPages((after) => store.listSseEvents(exchange.id, { limit: 1000, after })) : undefined;
    const wsMessages = exchange.kind === 'websocket' ? wsMessagesOf(store, exchange.id) : undefined;
    calls.push(...dissectExchange({ exchange, sseEvents, wsMessages }, routes));
  }
  return calls;
}

export function assembleSessions(store: CaptureStore, routes?: readonly Route[]): Assembler {
  const assembler = new Assembler();
  for (const call of loadLlmCalls(store, routes)) assembler.add(call);
  return assembler;
}
