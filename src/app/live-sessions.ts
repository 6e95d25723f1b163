// Keeps an assembler up to date with a store that is still being written, incrementally: each
// update dissects only exchanges that are new or still open, and adds each LLM call once, when it
// is complete (the assembler only ever adds). Exchanges that are still streaming mark their
// session as live instead, and keep a preview of what their call has delivered so far (pending()).
import type { ExchangeRecord, SseEventRecord } from '../capture';
import { Assembler, type AssemblyResume, type TextSpill } from '../conversation';
import type { SessionSummary } from '../conversation/types';
import { DEFAULT_ROUTES, dissectExchange, matchRoute, type LlmCall, type Route } from '../llm';
import type { ContentBlock, SideKind } from '../llm/llm-call';
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
  /** Those calls, in the order they were added, each with the session it went to at that moment. */
  addedCalls: AddedCall[];
  /** New exchanges are still waiting (the budget ran out); call update again soon. */
  more: boolean;
  /** Sessions whose call in progress changed (more of it arrived, it started, or it ended). */
  pendingChanged: string[];
}

export interface AddedCall {
  call: LlmCall;
  sessionId: string;
}

/** What has arrived so far of a call still streaming: a live preview, never given to the assembler. */
export interface PendingCall {
  /** The id the LlmCall will have: `<exchangeId>`, or `<exchangeId>:<n>` on a WebSocket. */
  callId: string;
  model?: string;
  startedAt: number;
  firstTokenAt?: number;
  /** The request's system prompt, to tell which thread the call continues. */
  system?: string;
  side?: SideKind;
  /** Text, thinking and tool calls so far; a tool call's `arguments` may be JSON cut mid-way. */
  output: ContentBlock[];
}

interface OpenExchange {
  /** Calls of this exchange already given to the assembler (WebSockets carry several). */
  added: number;
  /** The wire session id of the call in progress, once known. */
  pendingSessionKey?: string;
  /** The preview of the call in progress. */
  preview?: PendingCall;
  /** Seen open as an HTTP exchange (not a WebSocket): nothing to assemble until it ends. */
  http?: boolean;
  /** What the preview was built from (head state and event count); while it is unchanged, nothing is dissected. */
  seen?: string;
  /** Open SSE exchange: its events so far (each update reads only the new ones from the store). */
  events?: SseEventRecord[];
  /** Open HTTP exchange: its record, request body included, re-read only when `head` changes. */
  record?: ExchangeRecord;
  head?: string;
  /** The call as dissected with its request (identity, model, system, side), once per `head`. */
  request?: LlmCall;
  /** Open WebSocket: the highest message sequence number read. */
  lastWsSeq?: number;
}

/** Summaries of new exchanges read per query. */
const NEW_EXCHANGES_PAGE = 200;

export class LiveSessions {
  /** Set-aside sessions' calls are read back from the store when they are needed again. */
  readonly assembler: Assembler;
  private lastExchangeId = 0;
  private readonly open = new Map<number, OpenExchange>();
  private streamingIds = new Set<string>();
  private callCount = 0;
  /** New exchanges found but not yet read, oldest first: a page or a slice of them, not all (fill). */
  private queue: ExchangeSummary[] = [];
  /** The last look for new exchanges left more in the store. */
  private unfetched = false;
  private taken = 0;

  /**
   * With `afterExchangeId`, exchanges up to that id are never read (a follower of what comes next, not of the history).
   * `previews: false` (the CLI's call feed, which prints finished calls only) neither previews open
   * HTTP exchanges nor reads them until they end: one query per update tells which have ended.
   * `spill`: where the assembly keeps its large texts (docs/decisions.md, decision 83).
   */
  constructor(private store: CaptureStore, private readonly routes: readonly Route[] = DEFAULT_ROUTES, afterExchangeId = 0,
    private readonly options: { previews?: boolean; spill?: TextSpill } = {}) {
    this.assembler = new Assembler((ids) => this.reloadCalls(ids), options.spill);
    this.lastExchangeId = afterExchangeId;
  }

  /** Follows another store on the same data directory (ids are the database's, so they carry over). */
  attach(store: CaptureStore): void {
    this.store = store;
  }

  /** New exchanges not read yet (a large store is read a slice per update). */
  get queued(): number {
    return this.queue.length + (this.unfetched ? this.store.countExchangesAfter(this.lastExchangeId) : 0);
  }

  /** New exchanges read so far. */
  get read(): number {
    return this.taken;
  }

  /** LLM calls given to the assembler so far. */
  get calls(): number {
    return this.callCount;
  }

  /**
   * Where an assembly saved now goes on from (resume): every exchange up to `afterExchangeId` has
   * been read, whole but for those in `open` (still open, read in part or not at all).
   */
  resumePoint(): { afterExchangeId: number; open: number[] } {
    const afterExchangeId = this.queue.length > 0 ? this.queue[0].id - 1 : this.lastExchangeId;
    return { afterExchangeId, open: [...this.open.keys()].filter((id) => id <= afterExchangeId).sort((a, b) => a - b) };
  }

  /**
   * Takes up a saved assembly (Assembler.resumeFrom) that holds `calls` calls from the exchanges up
   * to the one this follower was made to start after; only before anything was read.
   */
  resume(summaries: readonly SessionSummary[], state: AssemblyResume, calls: number): boolean {
    if (this.taken > 0 || this.callCount > 0 || !this.assembler.resumeFrom(summaries, state)) return false;
    this.callCount = calls;
    return true;
  }

  /** Sessions with a model call in progress. */
  streaming(): ReadonlySet<string> {
    return this.streamingIds;
  }

  /**
   * Reads what changed in the store since the last update: open exchanges, and at most `budget`
   * new ones (so that a large store is read in slices that do not block the caller for long). Past
   * `deadline` (a performance.now() time) it stops after the exchange in hand, at least one read,
   * and leaves the rest for the next update: a slice of large requests holds a request that arrives
   * meanwhile for a bounded time, not for 25 bodies (docs/decisions.md, decision 96).
   */
  update(budget = Number.POSITIVE_INFINITY, deadline = Number.POSITIVE_INFINITY): LiveUpdate {
    const changed = new Set<string>();
    const retired: string[] = [];
    /** Wire session keys whose preview changed. */
    const previewed = new Set<string>();
    let added = 0;
    const addedCalls: AddedCall[] = [];
    const candidates = new Map<number, ExchangeSummary | undefined>();
    for (const id of this.open.keys()) candidates.set(id, undefined);
    this.fill(budget);
    const take = this.queue.splice(0, Math.max(1, Math.min(budget, this.queue.length)));
    this.taken += take.length;
    for (const s of take) candidates.set(s.id, s);
    /** Of `take`, how many this update has come to. */
    let reached = 0;
    const previews = this.options.previews ?? true;
    // Without previews an open HTTP exchange has nothing to read until it ends; reading each one's
    // row on every update took most of the capturing thread with 1,000 streams open.
    const stillOpen = previews ? undefined : this.store.openExchangeIds([...this.open].filter(([, o]) => o.http).map(([id]) => id));
    for (const id of [...candidates.keys()].sort((a, b) => a - b)) {
      if (reached > 0 && performance.now() > deadline) {
        // Open exchanges stay in `open`; new ones go back to the head of the queue, in order.
        const rest = take.slice(reached);
        this.queue.unshift(...rest);
        this.taken -= rest.length;
        break;
      }
      if (candidates.get(id)) reached++;
      if (stillOpen?.has(id)) continue;
      const summary = candidates.get(id) ?? this.store.getExchangeSummary(id);
      if (!summary || !matchRoute(summary as unknown as ExchangeRecord, this.routes)) {
        this.open.delete(id);
        continue;
      }
      const state = this.open.get(id) ?? { added: 0 };
      const ended = summary.endedAt !== undefined;
      const previewBefore = state.preview;
      const keyBefore = state.pendingSessionKey;
      const notePreview = () => {
        if (state.preview === previewBefore) return;
        if (keyBefore) previewed.add(keyBefore);
        if (state.pendingSessionKey) previewed.add(state.pendingSessionKey);
      };
      // An HTTP exchange is assembled once, when it has ended; until then it is only previewed.
      if (!ended && summary.kind !== 'websocket') {
        state.http = true;
        if (previews) {
          this.previewHttp(summary, state);
          notePreview();
        }
        this.open.set(id, state);
        continue;
      }
      // A live socket with no new message has nothing new to dissect.
      if (!ended && !this.wsGrew(id, state)) {
        this.open.set(id, state);
        continue;
      }
      const calls = this.dissect(id) ?? [];
      let i = state.added;
      for (; i < calls.length; i++) {
        const call = calls[i];
        if (!ended && call.endedAt === undefined) break;
        const result = this.assembler.addCall(call);
        addedCalls.push({ call, sessionId: result.sessionId });
        changed.add(result.sessionId);
        for (const r of result.retiredSessionIds) {
          retired.push(r);
          changed.delete(r);
        }
        added++;
      }
      state.added = i;
      if (ended) {
        state.preview = undefined;
        this.open.delete(id);
      } else {
        const current = i < calls.length ? calls[i] : undefined;
        state.pendingSessionKey = current ? (current.identity.sessionId ?? '') : undefined;
        state.preview = current && previewOf(current, current);
        this.open.set(id, state);
      }
      notePreview();
    }
    this.callCount += added;
    const streamingChanged = this.refreshStreaming();
    const pendingChanged = [...new Set([...previewed].map((key) => this.assembler.currentId(key)))];
    return { changed: [...changed], retired, streamingChanged, added, addedCalls, more: this.queue.length > 0 || this.unfetched, pendingChanged };
  }

  /** The calls of a session still streaming, oldest first, with what has arrived of each so far. */
  pending(sessionId: string): PendingCall[] {
    const out: PendingCall[] = [];
    for (const o of this.open.values()) {
      if (!o.preview || !o.pendingSessionKey) continue;
      if (this.assembler.currentId(o.pendingSessionKey) === sessionId) out.push(o.preview);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  /**
   * Brings the preview of an open HTTP exchange up to date.
   *
   * Cost: a re-dissection decodes every event of the stream so far, so it is bounded: at most
   * once per update (the caller coalesces updates to one per 250 ms) and only when events
   * arrived since the last one. Only the new events are read from the store (the earlier ones
   * are kept here while the exchange is open), and the request body (megabytes late in a long
   * session) is read and parsed once per request state (`head`), not per update: later previews
   * decode the response events alone. A stream of n events thus costs O(n) per update in which
   * it grew, O(n · duration / 250 ms) in all, instead of O(n) per event.
   */
  private previewHttp(summary: ExchangeSummary, state: OpenExchange): void {
    const head = `${summary.kind}|${summary.requestEndedAt ?? ''}|${summary.responseStartedAt ?? ''}`;
    if (state.head !== head) {
      state.head = head;
      state.record = this.store.getExchange(summary.id);
      state.request = undefined;
    }
    if (summary.kind === 'sse') {
      const events = (state.events ??= []);
      const from = events.at(-1)?.seq;
      events.push(...readAllPages((after) => this.store.listSseEvents(summary.id, { limit: 1000, after: after ?? from })));
    }
    const seen = `${head}|${state.events?.length ?? 0}`;
    if (seen === state.seen || !state.record) return;
    state.seen = seen;
    if (!state.request) {
      const call = dissectExchange({ exchange: state.record, sseEvents: state.events }, this.routes).at(-1);
      state.request = call;
      state.pendingSessionKey = call?.identity.sessionId ?? '';
      state.preview = call && previewOf(call, call);
      return;
    }
    // The request half is known: decode the response alone.
    const { requestBody: _request, ...exchange } = state.record;
    const part = dissectExchange({ exchange, sseEvents: state.events }, this.routes).at(-1);
    state.preview = part && previewOf(state.request, part);
  }

  /** True when an open WebSocket got messages since the last look (payloads are not read). */
  private wsGrew(id: number, state: OpenExchange): boolean {
    const from = state.lastWsSeq;
    const fresh = readAllPages((after) => this.store.listWsMessages(id, { limit: 1000, after: after ?? from, includeData: false }));
    if (fresh.length === 0) return false;
    state.lastWsSeq = fresh[fresh.length - 1].seq;
    return true;
  }

  /**
   * Queues new exchanges' summaries, a page at a time, until the queue holds `budget` (a full queue
   * asks nothing; a short one asks at least once, since more may have come): a store opened with
   * 50,000 unread exchanges holds a page of them in memory, not all (decision 96).
   */
  private fill(budget: number): void {
    while (this.queue.length < budget) {
      const page = this.store.listExchangesAfter(this.lastExchangeId, NEW_EXCHANGES_PAGE);
      this.queue.push(...page.items);
      this.lastExchangeId = page.items.at(-1)?.id ?? this.lastExchangeId;
      this.unfetched = page.next !== undefined;
      if (!this.unfetched) break;
    }
  }

  /**
   * Sets aside sessions with no call since `before` (and none streaming, none in `keep`): their
   * state leaves memory, their summary stays (docs/decisions.md, decision 66).
   */
  evictIdle(before: number, keep: ReadonlySet<string>): string[] {
    return this.assembler.evictIdle(before, new Set([...keep, ...this.streamingIds]));
  }

  /** The calls with these ids, dissected again from the store, in the order given. */
  private reloadCalls(ids: readonly string[]): LlmCall[] {
    const byExchange = new Map<number, LlmCall[]>();
    const out: LlmCall[] = [];
    for (const id of ids) {
      const exchangeId = Number(id.split(':')[0]);
      let calls = byExchange.get(exchangeId);
      if (!calls) {
        calls = this.dissect(exchangeId) ?? [];
        byExchange.set(exchangeId, calls);
      }
      const call = calls.find((c) => c.id === id);
      if (call) out.push(call);
    }
    return out;
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
      next.add(this.assembler.currentId(o.pendingSessionKey));
    }
    const same = next.size === this.streamingIds.size && [...next].every((id) => this.streamingIds.has(id));
    this.streamingIds = next;
    return !same;
  }
}

/** The preview of a call: its request half from `request`, what has arrived so far from `response`. */
function previewOf(request: LlmCall, response: LlmCall): PendingCall {
  const model = request.model ?? response.model;
  const firstTokenAt = response.firstTokenAt;
  return {
    callId: request.id, startedAt: request.startedAt, output: response.output,
    ...(model !== undefined ? { model } : {}),
    ...(firstTokenAt !== undefined ? { firstTokenAt } : {}),
    ...(request.system !== undefined ? { system: request.system } : {}),
    ...(request.side !== undefined ? { side: request.side } : {}),
  };
}
