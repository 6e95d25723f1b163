// The assembler: LLM calls in, sessions out. Incremental: `add` routes a call to its session and
// updates only that session's state (or, when content shows two sessions are one, merges them);
// views are rebuilt lazily per session and cached against the session's revision. Feeding the
// same calls in the same order, one by one or all at once, gives the same result.
import type { LlmCall } from '../llm/llm-call';
import {
  findAnonymousSession, findSpawnHost, findTitleHost, inputText, TITLE_WINDOW_MS, type PendingSpawn,
} from './session-links';
import { sideRequestKind } from './scaffolding';
import { SessionState, type AddOutcome } from './session-state';
import { buildSessionDetail } from './session-view';
import type { TextSpill } from './spilled-text';
import type { SessionDetail, SessionSummary } from './types';

/**
 * A session set aside from memory (Assembler.evict): its summary stays listed, its detail is
 * served from elsewhere (the derived files), and its calls are read back (`reload`) when a new
 * call joins it or a merge takes it in.
 */
interface ColdSession extends ColdSessionRecord {
  summary: SessionSummary;
}

/** What brings a set-aside session back, beside its summary. */
export interface ColdSessionRecord {
  id: string;
  /** Every call the session held, in the order they were added. */
  callIds: string[];
  idSource: string;
  mergedIds: string[];
  anonymous: boolean;
}

/**
 * An assembly as if every session were set aside: enough for a new assembler to go on from where
 * this one stopped without reading a call again (docs/decisions.md, decision 94). What links calls
 * within a short window (spawns, title threads, anonymous sessions) is not in it.
 */
export interface AssemblyResume {
  sessions: ColdSessionRecord[];
  /** Retired or secondary ids → the session that holds them. */
  aliases: [string, string][];
  /** Anonymous sessions numbered so far, per client. */
  anonymousCount: [LlmCall['client'], number][];
}

/** Reads calls back by id, in the order given; calls whose exchange is gone are left out. */
export type CallReloader = (callIds: readonly string[]) => LlmCall[];

export interface AddResult {
  /** The session the call went to (or that absorbed it). */
  sessionId: string;
  /** Sessions that this call showed to be part of `sessionId`; they no longer exist on their own. */
  retiredSessionIds: string[];
}

interface OrphanTitle {
  sessionId: string;
  client: LlmCall['client'];
  at: number;
  text: string;
}

/**
 * A title request that is not on its conversation's session id: Codex's title thread (its own
 * session id, `thread_source: thread_title`), or a title request without any session id. Claude
 * Code's title requests carry the conversation's own session id and need no linking.
 */
function titleThread(call: LlmCall): boolean {
  return call.side === 'title' && (call.identity.sessionId === undefined || call.identity.threadSource === 'thread_title');
}

/**
 * The call, with a side kind when the dissector left it unset but the call is one: a Codex title
 * thread, or a request recognised by its final instruction (see SIDE_REQUEST_PATTERNS). A copy;
 * the caller's object is never changed.
 */
function withSide(call: LlmCall): LlmCall {
  if (call.side !== undefined) return call;
  const side = call.identity.threadSource === 'thread_title' ? 'title' : sideRequestKind(call);
  return side === undefined ? call : { ...call, side };
}

export class Assembler {
  private readonly states = new Map<string, SessionState>();
  /** Retired or secondary ids → the id of the session that holds them. */
  private readonly aliases = new Map<string, string>();
  private readonly anonymous: SessionState[] = [];
  /** Anonymous sessions created so far, per client: they are numbered 1, 2, 3… in creation order. */
  private readonly anonymousCount = new Map<LlmCall['client'], number>();
  private readonly orphanTitles: OrphanTitle[] = [];
  /** Spawn prompt key → spawning calls, for subagents that run on their own session id. */
  private readonly pendingSpawns = new Map<string, PendingSpawn[]>();
  private readonly views = new Map<string, { revision: number; detail: SessionDetail }>();
  private readonly cold = new Map<string, ColdSession>();

  /**
   * Without `reload`, sessions are never set aside. With `spill`, large texts are kept there
   * rather than in memory (decision 83).
   */
  constructor(private readonly reload?: CallReloader, private readonly spill?: TextSpill) {}

  /** Adds one call; returns the id of the session it changed. */
  add(call: LlmCall): string {
    return this.addCall(call).sessionId;
  }

  addCall(original: LlmCall): AddResult {
    const call = withSide(original);
    const retired: string[] = [];
    const state = this.route(call);
    const outcome = state.add(call);
    this.follow(state, call, outcome, retired);
    return { sessionId: this.resolve(state.id), retiredSessionIds: retired };
  }

  /** Summaries of every session, set-aside ones included, oldest first. */
  sessions(): SessionSummary[] {
    return [...[...this.states.values()].map((s) => this.detailOf(s).summary), ...[...this.cold.values()].map((c) => c.summary)]
      .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  }

  /** One session in full; a retired id gives the session that absorbed it. Undefined for a set-aside one (see summary). */
  session(id: string): SessionDetail | undefined {
    const state = this.states.get(this.resolve(id));
    return state ? this.detailOf(state) : undefined;
  }

  /** A session's summary, in memory or set aside. */
  summary(id: string): SessionSummary | undefined {
    const key = this.resolve(id);
    const state = this.states.get(key);
    return state ? this.detailOf(state).summary : this.cold.get(key)?.summary;
  }

  /** The id a session has now (a retired id gives the session that absorbed it), known or not. */
  currentId(id: string): string {
    return this.resolve(id);
  }

  /** Sessions in memory (set-aside ones are not). */
  sessionIds(): string[] {
    return [...this.states.keys()];
  }

  isCold(id: string): boolean {
    return this.cold.has(this.resolve(id));
  }

  /** Sessions set aside now. */
  get coldCount(): number {
    return this.cold.size;
  }

  /**
   * Sets a session aside: only its summary and call ids stay in memory. The caller keeps its
   * detail elsewhere. A call that joins it later reads its calls back first (warm).
   */
  evict(id: string): boolean {
    const state = this.states.get(id);
    if (!state || !this.reload) return false;
    this.cold.set(id, { summary: this.detailOf(state).summary, ...this.coldRecord(state) });
    this.states.delete(id);
    this.views.delete(id);
    const at = this.anonymous.indexOf(state);
    if (at >= 0) this.anonymous.splice(at, 1);
    for (let i = this.orphanTitles.length - 1; i >= 0; i--) if (this.orphanTitles[i]!.sessionId === id) this.orphanTitles.splice(i, 1);
    return true;
  }

  /** Sets aside every session whose last call ended before `before`, except those in `keep`; returns their ids. */
  evictIdle(before: number, keep: ReadonlySet<string>): string[] {
    return this.idleIds(before, keep).filter((id) => this.evict(id));
  }

  /** Sessions in memory whose last call ended before `before`, except those in `keep`. */
  idleIds(before: number, keep: ReadonlySet<string>): string[] {
    return [...this.states.values()].filter((s) => s.lastAt < before && !keep.has(s.id)).map((s) => s.id);
  }

  /**
   * Brings a set-aside session back into memory: its calls are read back and added again, in
   * their order, to one state under its id (calls of sessions it had absorbed included). Calls
   * whose exchanges retention has deleted since are gone from it, as after a reopen.
   */
  warm(id: string): SessionState | undefined {
    const key = this.resolve(id);
    const cold = this.cold.get(key);
    if (!cold || !this.reload) return this.states.get(key);
    this.cold.delete(key);
    const calls = this.reload(cold.callIds).map(withSide);
    if (calls.length === 0) return undefined;
    const state = new SessionState(key, calls[0]!, cold.idSource, this.spill);
    state.mergedIds.push(...cold.mergedIds);
    this.states.set(key, state);
    if (cold.anonymous) this.anonymous.push(state);
    for (const call of calls) this.follow(state, call, state.add(call), []);
    return state;
  }

  /** This assembly as set-aside sessions (those in memory too), for resumeFrom. */
  resumeState(): AssemblyResume {
    return {
      sessions: [...[...this.states.values()].map((s) => this.coldRecord(s)), ...[...this.cold.values()].map((c) => ({
        id: c.id, callIds: c.callIds, idSource: c.idSource, mergedIds: c.mergedIds, anonymous: c.anonymous,
      }))],
      aliases: [...this.aliases],
      anonymousCount: [...this.anonymousCount],
    };
  }

  /**
   * Takes up an assembly that `resumeState` gave, with its sessions' summaries: every session set
   * aside, to be read back when a call joins it. Only into an empty assembler that can read calls
   * back; false (and nothing taken) when it cannot, or when a session has no summary.
   */
  resumeFrom(summaries: readonly SessionSummary[], state: AssemblyResume): boolean {
    if (!this.reload || this.states.size > 0 || this.cold.size > 0 || this.aliases.size > 0) return false;
    const byId = new Map(summaries.map((s) => [s.id, s]));
    if (state.sessions.length !== byId.size || state.sessions.some((r) => !byId.has(r.id))) return false;
    for (const record of state.sessions) this.cold.set(record.id, { ...record, summary: byId.get(record.id)! });
    for (const [from, to] of state.aliases) this.aliases.set(from, to);
    for (const [client, n] of state.anonymousCount) this.anonymousCount.set(client, n);
    return true;
  }

  private coldRecord(state: SessionState): ColdSessionRecord {
    const callIds = [...new Set([...state.segments.flatMap((s) => s.calls.map((r) => r.call.id)), ...state.sideCalls.map((c) => c.id)])]
      .sort(compareCallIds);
    return { id: state.id, callIds, idSource: state.idSource, mergedIds: [...state.mergedIds], anonymous: this.anonymous.includes(state) };
  }

  private detailOf(state: SessionState): SessionDetail {
    const cached = this.views.get(state.id);
    if (cached && cached.revision === state.revision) return cached.detail;
    const detail = buildSessionDetail(state);
    this.views.set(state.id, { revision: state.revision, detail });
    return detail;
  }

  private resolve(id: string): string {
    return resolveAlias(this.aliases, id);
  }

  private route(call: LlmCall): SessionState {
    const wire = call.identity.sessionId;
    if (wire === undefined) {
      const found = findAnonymousSession(call, this.anonymous.filter((s) => this.states.get(s.id) === s))
        ?? (titleThread(call) ? this.titleHost(call) : undefined);
      if (found) return found;
      // Numbered only here, when a session is really created, so the numbers have no gaps and
      // do not depend on how many calls (or failed link attempts) came before.
      const n = (this.anonymousCount.get(call.client) ?? 0) + 1;
      this.anonymousCount.set(call.client, n);
      const created = this.create(`anon:${call.client}:${n}`, call, 'heuristic');
      this.anonymous.push(created);
      return created;
    }
    const existing = this.states.get(this.resolve(wire)) ?? this.warm(wire);
    if (existing) return existing;
    // A set-aside session whose calls are all gone: it starts again under its id.
    const gone = this.resolve(wire);
    if (gone !== wire) return this.create(gone, call, call.identity.sessionIdSource ?? 'wire');
    // A new wire id: it may be a title thread or a subagent of a session already known.
    const host = titleThread(call)
      ? this.titleHost(call)
      : call.side === undefined ? findSpawnHost(call, this.pendingSpawns, (id) => this.states.get(this.resolve(id)) ?? this.warm(id)) : undefined;
    if (host) {
      this.aliases.set(wire, host.id);
      host.mergedIds.push(wire);
      return host;
    }
    return this.create(wire, call, call.identity.sessionIdSource ?? 'wire');
  }

  private titleHost(call: LlmCall): SessionState | undefined {
    return findTitleHost({ client: call.client, at: call.startedAt, text: inputText(call) }, this.states.values());
  }

  private create(id: string, call: LlmCall, source: string): SessionState {
    const state = new SessionState(id, call, source, this.spill);
    this.states.set(id, state);
    return state;
  }

  /** Cross-session consequences of what the call brought in. */
  private follow(state: SessionState, call: LlmCall, outcome: AddOutcome, retired: string[]): void {
    for (const spawn of outcome.newSpawns) {
      const list = this.pendingSpawns.get(spawn.key) ?? [];
      list.push({ sessionId: state.id, toolCallId: spawn.toolCallId, client: state.client, at: spawn.at });
      this.pendingSpawns.set(spawn.key, list);
    }
    for (const child of outcome.childSessionIds) this.merge(state, child.sessionId, retired);
    if (outcome.newPrompts.length > 0 && this.orphanTitles.length > 0) {
      for (const orphan of [...this.orphanTitles]) {
        if (orphan.client !== state.client || orphan.sessionId === state.id) continue;
        if (Math.abs(orphan.at - call.startedAt) > TITLE_WINDOW_MS) continue;
        if (outcome.newPrompts.some((p) => p.trim() !== '' && orphan.text.includes(p.trim()))) this.merge(state, orphan.sessionId, retired);
      }
    }
    if (titleThread(call) && !state.conversationStarted) {
      this.orphanTitles.push({ sessionId: state.id, client: call.client, at: call.startedAt, text: inputText(call) });
    }
  }

  /** Makes `otherId` (a wire id, possibly not seen yet) part of `host`. */
  private merge(host: SessionState, otherId: string, retired: string[]): void {
    const otherKey = this.resolve(otherId);
    if (otherKey === host.id) return;
    this.aliases.set(otherId, host.id);
    const wasCold = this.cold.has(otherKey);
    const other = this.states.get(otherKey) ?? this.warm(otherKey);
    if (!other && wasCold) retired.push(otherKey);
    if (!other) {
      if (!host.mergedIds.includes(otherId)) host.mergedIds.push(otherId);
      return;
    }
    this.aliases.set(otherKey, host.id);
    host.absorb(other);
    this.states.delete(otherKey);
    this.views.delete(otherKey);
    retired.push(otherKey);
    for (let i = this.orphanTitles.length - 1; i >= 0; i--) if (this.orphanTitles[i]!.sessionId === otherKey) this.orphanTitles.splice(i, 1);
  }
}

/** The id of the session that holds `id`, following retired and secondary ids (`Assembler`'s aliases). */
export function resolveAlias(aliases: ReadonlyMap<string, string>, id: string): string {
  let current = id;
  for (let hops = 0; hops < 16; hops++) {
    const next = aliases.get(current);
    if (next === undefined || next === current) return current;
    current = next;
  }
  return current;
}

/** Call ids (`<exchangeId>` or `<exchangeId>:<n>`) in the order calls are added: by exchange, then n. */
function compareCallIds(a: string, b: string): number {
  const [ea = 0, na = 0] = a.split(':').map(Number);
  const [eb = 0, nb = 0] = b.split(':').map(Number);
  return ea - eb || na - nb || a.localeCompare(b);
}

/** Assembles calls from scratch (in store order). */
export function assemble(calls: Iterable<LlmCall>): Assembler {
  const assembler = new Assembler();
  for (const call of calls) assembler.add(call);
  return assembler;
}
