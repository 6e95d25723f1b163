// Keeps an assembler up to date with a store that is still being written, incrementally: each
// update dissects only exchanges that are new or still open, and adds each LLM call once, when it
// is complete (the assembler only ever adds). Exchanges that are still streaming mark their
// session as live instead.
import type { ExchangeRecord } from '../capture';
import { Assembler } from '../conversation';
import { DEFAULT_ROUTES, dissectExchange, matchRoute, type LlmCall, type Route } from '../llm';
import type { CaptureStore, ExchangeSummary } from '../store';
import { readAllPages, wsMessagesOf } from './store-reading';

export interface LiveUpdate {
  /** Sessions that got new calls (ids as they are now). */
  changed: string[];
  /** Sessions merged into another one; drop them. */
  retired: string[];
  /** True when the set of streaming sessions changed. */
  streamingChanged: boolean;
  /** LLM calls added by this update. */
  added: number;
  /** New exchanges are still waiting (the budget ran out); call update again soon. */
  more: boolean;
}

interface OpenExchange {
  /** Calls of this exchange already given to the assembler (WebSockets carry several). */
  added: number;
  /** The wire session id of the call in progress, once known. */
  pendingSessionKey?: string;
}

export class LiveSessions {
  readonly assembler = new Assembler();
  private lastExchangeId = 0;
  private readonly open = new Map<number, OpenExchange>();
  private streamingIds = new Set<string>();
  private callCount = 0;
  /** New exchanges found but not yet read, oldest first. */
  private queue: ExchangeSummary[] = [];

  constructor(private store: CaptureStore, private readonly routes: readonly Route[] = DEFAULT_ROUTES) {}

  /** Follows another store on the same data directory (ids are the database's, so they carry over). */
  attach(store: CaptureStore): void {
    this.store = store;
  }

  /** LLM calls given to the assembler so far. */
  get calls(): number {
    return this.callCount;
  }

  /** Sessions with a model call in progress. */
  streaming(): ReadonlySet<string> {
    return this.streamingIds;
  }

  /**
   * Reads what changed in the store since the last update: open exchanges, and at most `budget`
   * new ones (so that a large store is read in slices that do not block the caller for long).
   */
  update(budget = Number.POSITIVE_INFINITY): LiveUpdate {
    const changed = new Set<string>();
    const retired: string[] = [];
    let added = 0;
    const candidates = new Map<number, ExchangeSummary | undefined>();
    for (const id of this.open.keys()) candidates.set(id, undefined);
    for (const s of this.newExchanges()) {
      this.queue.push(s);
      this.lastExchangeId = Math.max(this.lastExchangeId, s.id);
    }
    const take = this.queue.splice(0, Math.max(1, Math.min(budget, this.queue.length)));
    for (const s of take) candidates.set(s.id, s);
    for (const id of [...candidates.keys()].sort((a, b) => a - b)) {
      const summary = candidates.get(id) ?? this.store.getExchangeSummary(id);
      if (!summary || !matchRoute(summary as unknown as ExchangeRecord, this.routes)) {
        this.open.delete(id);
        continue;
      }
      const state = this.open.get(id) ?? { added: 0 };
      const ended = summary.endedAt !== undefined;
      // An HTTP exchange is dissected once, when it has ended; until then only its identity is read (once).
      if (!ended && summary.kind !== 'websocket') {
        if (state.pendingSessionKey === undefined) state.pendingSessionKey = this.dissect(id)?.at(-1)?.identity.sessionId ?? '';
        this.open.set(id, state);
        continue;
      }
      const calls = this.dissect(id) ?? [];
      let i = state.added;
      for (; i < calls.length; i++) {
        const call = calls[i];
        if (!ended && call.endedAt === undefined) break;
        const result = this.assembler.addCall(call);
        changed.add(result.sessionId);
        for (const r of result.retiredSessionIds) {
          retired.push(r);
          changed.delete(r);
        }
        added++;
      }
      state.added = i;
      if (ended) {
        this.open.delete(id);
      } else {
        state.pendingSessionKey = i < calls.length ? (calls[i].identity.sessionId ?? '') : undefined;
        this.open.set(id, state);
      }
    }
    this.callCount += added;
    const streamingChanged = this.refreshStreaming();
    return { changed: [...changed], retired, streamingChanged, added, more: this.queue.length > 0 };
  }

  private newExchanges(): ExchangeSummary[] {
    const fresh: ExchangeSummary[] = [];
    let before: number | undefined;
    for (;;) {
      const page = this.store.listExchanges({ limit: 200, before });
      let done = page.next === undefined;
      for (const s of page.items) {
        if (s.id <= this.lastExchangeId) {
          done = true;
          break;
        }
        fresh.push(s);
      }
      if (done) break;
      before = page.next;
    }
    return fresh.reverse();
  }

  private dissect(id: number): LlmCall[] | undefined {
    const exchange = this.store.getExchange(id);
    if (!exchange) return undefined;
    const sseEvents = exchange.kind === 'sse' ? readAllPages((after) => this.store.listSseEvents(exchange.id, { limit: 1000, after })) : undefined;
    const wsMessages = exchange.kind === 'websocket' ? wsMessagesOf(this.store, exchange.id) : undefined;
    return dissectExchange({ exchange, sseEvents, wsMessages }, this.routes);
  }

  private refreshStreaming(): boolean {
    const next = new Set<string>();
    for (const o of this.open.values()) {
      if (!o.pendingSessionKey) continue;
      next.add(this.assembler.session(o.pendingSessionKey)?.id ?? o.pendingSessionKey);
    }
    const same = next.size === this.streamingIds.size && [...next].every((id) => this.streamingIds.has(id));
    this.streamingIds = next;
    return !same;
  }
}
