// What the headless proxy prints while it captures, as mitmdump prints its flows: a line per LLM
// call as it completes, a line the first time a host is tunnelled blind or refused, and with
// `verbose` a line per other captured exchange. It follows the store the proxy writes (debounced,
// like the extension's views), never the proxy itself, so forwarding never waits for it.
//
// Calls come from LiveSessions, which dissects each new exchange once and feeds the assembler; the
// assembler reads the store from its start, so that anonymous sessions get the ids `sessions` and
// `show` give them, but only what happens after the feed started is printed.
import type { ConnectionRecord, ExchangeRecord } from '../capture';
import type { TextSpill } from '../conversation';
import { SET_ASIDE_AFTER_MS } from '../conversation/session-links';
import { matchRoute, type Route } from '../llm';
import type { CaptureStore, ExchangeSummary } from '../store';
import { isProxyAnswer } from './activity';
import { formatCallLine, formatExchangeLine, formatRefusedLine, formatTunnelLine, refusalReason } from './call-line';
import { LiveSessions } from './live-sessions';
import { readAllPages } from './store-reading';

export interface CallFeedOptions {
  /** Also a line per captured exchange that is not an LLM call. */
  verbose?: boolean;
  /** Gets each line, without its newline. */
  write: (line: string) => void;
  /** A failure of the feed itself (reading the store); the feed carries on with the next change. */
  onError?: (error: Error) => void;
  routes?: readonly Route[];
  /** Where the assembly keeps its long texts (docs/decisions.md, decision 83); in memory without one. */
  spill?: TextSpill;
}

const DEBOUNCE_MS = 250;
/** New exchanges dissected per pass; the rest wait for the next turn of the event loop. */
const SLICE = 25;
const CATCH_UP_PAUSE_MS = 50;
const FLUSH_PASSES = 8;
/** How often idle sessions are looked for: the feed needs only their ids (decision 66). */
const SET_ASIDE_EVERY_MS = 60_000;

export class CallFeed {
  private readonly live: LiveSessions;
  /** Exchanges up to this id were in the store before the feed started: their calls are not printed. */
  private readonly startExchangeId: number;
  private lastExchangeId: number;
  private lastConnectionId: number;
  /** Exchanges (not ended yet) and connections (tunnels not closed, handshakes not done) still watched. */
  private readonly openExchanges = new Set<number>();
  private readonly openConnections = new Set<number>();
  /** `tunnel host:port` and `refused host:port`: each is said once per run. */
  private readonly said = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private lastSetAside = Date.now();

  constructor(private readonly store: CaptureStore, private readonly options: CallFeedOptions) {
    this.startExchangeId = store.listExchanges({ limit: 1 }).items[0]?.id ?? 0;
    // Only what comes after the start is read: assembling a large store's history first kept the
    // capturing thread busy for seconds (docs/decisions.md, decision 31).
    // Finished calls only: previews of open ones would cost the capturing thread and print nothing.
    this.live = new LiveSessions(store, options.routes, this.startExchangeId, { previews: false, spill: options.spill });
    this.lastExchangeId = this.startExchangeId;
    this.lastConnectionId = store.listConnections({ limit: 1 }).items[0]?.id ?? 0;
  }

  /** Follows the store's changes until stop(). */
  start(): void {
    this.unsubscribe ??= this.store.onChange(() => this.schedule(DEBOUNCE_MS));
    this.schedule(0);
  }

  /** Stops following; with `flush`, first prints what the store holds by now (a few slices at most, so stopping stays quick). */
  stop(flush = false): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (flush) this.guarded(() => { for (let pass = 0; pass < FLUSH_PASSES && this.update(); pass++); });
  }

  /** Reads what changed and writes its lines, oldest first; true when more is waiting. */
  update(): boolean {
    const lines: { at: number; text: string }[] = [];
    const update = this.live.update(SLICE);
    for (const { call, sessionId } of update.addedCalls) {
      lines.push({ at: call.endedAt ?? call.startedAt, text: formatCallLine(call, anonymousWithoutNumber(sessionId)) });
    }
    this.readExchanges(lines);
    this.readConnections(lines);
    for (const line of lines.sort((a, b) => a.at - b.at)) this.options.write(line.text);
    // A day of sessions would otherwise stay in the proxy's memory: idle ones keep their ids only.
    if (!update.more && Date.now() - this.lastSetAside > SET_ASIDE_EVERY_MS) {
      this.lastSetAside = Date.now();
      this.live.evictIdle(this.lastSetAside - SET_ASIDE_AFTER_MS, new Set());
    }
    return update.more;
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.guarded(() => {
        // A backlog is read a slice at a time with pauses between, so printing never takes the
        // capturing thread from the recorder for long (a flood of calls prints late, not slows capture).
        if (this.update()) this.schedule(CATCH_UP_PAUSE_MS);
      });
    }, delay);
    this.timer.unref();
  }

  private guarded(step: () => void): void {
    try {
      step();
    } catch (e) {
      this.options.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Ended exchanges: the proxy's own answers (refusals), and with `verbose` every non-LLM exchange. */
  private readExchanges(lines: { at: number; text: string }[]): void {
    const fresh = new Map<number, ExchangeSummary>();
    for (const x of readAllPages((after) => this.store.listExchangesAfter(after ?? this.lastExchangeId, 200))) fresh.set(x.id, x);
    for (const id of fresh.keys()) {
      this.openExchanges.add(id);
      this.lastExchangeId = Math.max(this.lastExchangeId, id);
    }
    // One query tells which watched exchanges are still open; only the others are read. With 1,000
    // streams open, a summary each per pass kept capture behind forwarding (decision 38).
    const stillOpen = this.store.openExchangeIds([...this.openExchanges].filter((id) => !fresh.has(id)));
    for (const id of [...this.openExchanges].sort((a, b) => a - b)) {
      if (stillOpen.has(id)) continue;
      const x = fresh.get(id) ?? this.store.getExchangeSummary(id);
      if (x?.endedAt === undefined) {
        if (!x) this.openExchanges.delete(id);
        continue;
      }
      this.openExchanges.delete(id);
      if (isProxyAnswer(x)) {
        this.once(lines, `refused ${hostPortOf(x.url)}`, x.startedAt, () =>
          formatRefusedLine(x.startedAt, hostPortOf(x.url), refusalReason(x.errors[0] ?? `the proxy answered ${x.statusCode ?? '-'}`)));
      } else if (this.options.verbose && !matchRoute(x as unknown as ExchangeRecord, this.options.routes)) {
        lines.push({ at: x.endedAt, text: formatExchangeLine({ ...x, responseBytes: x.responseBody?.wireSize }) });
      }
    }
  }

  /** Blind tunnels, the proxy's refusals of them, and clients that rejected our certificate. */
  private readConnections(lines: { at: number; text: string }[]): void {
    let fresh = this.lastConnectionId;
    for (let before: number | undefined; ;) {
      const page = this.store.listConnections({ limit: 200, before });
      const items = page.items.filter((c) => c.id > this.lastConnectionId);
      for (const c of items) if (c.mode !== 'plain-http') this.openConnections.add(c.id);
      if (items.length > 0) fresh = Math.max(fresh, items[0].id);
      if (items.length < page.items.length || page.next === undefined) break;
      before = page.next;
    }
    this.lastConnectionId = fresh;
    for (const id of [...this.openConnections].sort((a, b) => a - b)) {
      const c = this.store.getConnection(id);
      if (!c || this.readConnection(c, lines)) this.openConnections.delete(id);
    }
  }

  /** Writes what the connection shows; true when there is nothing more to learn from it. */
  private readConnection(c: ConnectionRecord, lines: { at: number; text: string }[]): boolean {
    const hostPort = `${c.targetHost}:${c.targetPort}`;
    if (c.mode === 'tunnel') {
      // A CONNECT the proxy answered itself (its connect status) is a refusal; an error without one
      // is a tunnel that broke later.
      if (c.connectStatus !== undefined) {
        this.once(lines, `refused ${hostPort}`, c.openedAt, () => formatRefusedLine(c.openedAt, hostPort, refusalReason(c.error ?? '')));
        return true;
      }
      this.once(lines, `tunnel ${hostPort}`, c.openedAt, () => formatTunnelLine(c.openedAt, hostPort));
      return c.closedAt !== undefined;
    }
    if (c.tlsOutcome === 'client-rejected-certificate') {
      this.once(lines, `refused ${hostPort}`, c.openedAt, () => formatRefusedLine(c.openedAt, hostPort, c.tlsDetail ?? 'the client rejected our certificate'));
      return true;
    }
    return c.tlsOutcome !== undefined || c.closedAt !== undefined;
  }

  private once(lines: { at: number; text: string }[], key: string, at: number, text: () => string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    lines.push({ at, text: text() });
  }
}

/** `host:port` of a URL, with the scheme's default port made explicit. */
function hostPortOf(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
    return `${u.hostname}:${port}`;
  } catch {
    return url;
  }
}

/**
 * The feed numbers anonymous sessions (no session id on the wire) from its own start, not as
 * `llm-capture sessions` does over the whole store; so it prints them as `anon:<client>`, and the
 * number is left to `sessions`.
 */
function anonymousWithoutNumber(sessionId: string): string {
  return sessionId.startsWith('anon:') ? sessionId.replace(/:\d+$/, '') : sessionId;
}
