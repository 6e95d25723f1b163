// Keeps the sessions of one store up to date while it is written: the store's onChange is
// debounced, and each pass reads only new or still-open exchanges (LiveSessions), a slice at a
// time, yielding in between, so that requests are answered while a large store loads. What
// changed goes out as events (src/engine/protocol.ts); the host keeps only summaries.
//
// Opening a store, the sessions stored in `derived/` (DerivedSessions) are shown at once, and
// served from their files. The live assembly goes on from the state saved with them: sessions long
// idle are taken up set aside, and only the exchanges of recent ones (and what came since) are read
// again (decision 94). Where it cannot, it is rebuilt from the exchanges behind them once the store
// changes. A session read again shows its stored version until its live one has as many calls.
// The writer keeps the derived files up to date as sessions change.
import { isDeepStrictEqual } from 'node:util';
import { LiveSessions, type LiveUpdate } from '../app/live-sessions';
import { SET_ASIDE_AFTER_MS } from '../conversation/session-links';
import type { SessionDetail, SessionSummary } from '../conversation/types';
import type { CaptureStore } from '../store';
import { planResume } from './assembly-resume';
import { DerivedSessions, type LoadedIndex, type StoreMark } from './derived-sessions';
import { FileTextSpill } from './file-text-spill';
import type { EngineEvent, LogLevel } from './protocol';

/**
 * Passes over new exchanges start at most this often while the store keeps changing. A change after
 * a quiet spell is read at once: an open conversation shows a call as soon as it is stored (decision 76).
 */
const DEBOUNCE_MS = 250;
/** New exchanges read per pass; a pass dissects their bodies, so keep it short. */
const SLICE = 25;
/**
 * ...and a pass stops reading once it has taken this long: 25 requests of a long session are
 * megabytes to parse, and a request (Start Capture, a session opened) waits for the pass in hand
 * (docs/decisions.md, decision 96).
 */
const SLICE_MS = 20;
/** The writer saves changed sessions this often at most. */
const SAVE_EVERY_MS = 5000;
/**
 * ...and waits at least this many times as long as its last save took: saving takes at most about
 * a twentieth of the time (docs/decisions.md, decision 78). A save appends what changed (decision
 * 85), but the first of each session in a process writes it whole.
 */
const SAVE_SPACING = 20;
/** Progress events at most this often. */
const PROGRESS_EVERY_MS = 250;
/** A reader looks for sessions it can set aside at most this often (it reads their files to check). */
const READ_SET_ASIDE_EVERY_MS = 60_000;

export interface FollowOptions {
  /** Where the derived files are (the store's data directory). */
  dataDir: string;
  /** Keep the sessions assembled so far (the same directory opened again: ids are the database's). */
  keep: boolean;
  /** Write the derived files as sessions change (the writer); a reader writes them only once caught up, if they were missing. */
  persist: boolean;
  /** Sessions idle this long leave memory once their files are current (decision 66); default SET_ASIDE_AFTER_MS (35 minutes). */
  evictIdleMs?: number;
}

export class SessionFollower {
  private live: LiveSessions | undefined;
  private store: CaptureStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the last pass began (performance.now()). */
  private lastPass = -Infinity;
  private derived: DerivedSessions | undefined;
  /** An index being read ahead of use() (prefetch). */
  private prefetched: DerivedSessions | undefined;
  private persist = false;
  private evictIdleMs = SET_ASIDE_AFTER_MS;
  /** Sessions shown from the derived index while the live assembly has fewer of their calls. */
  private restored = new Map<string, SessionSummary>();
  /** The derived index was missing or stale: write it once caught up. */
  private rewrite = false;
  /** Sessions changed since the last save. */
  private dirty = new Set<string>();
  private saveTimer: NodeJS.Timeout | undefined;
  /** How long the last save took, start to files on disk. */
  private lastSaveMs = 0;
  private lastProgress = 0;
  /** The save in progress, if any. */
  private saving: Promise<void> = Promise.resolve();
  /** The last pass left exchanges unread (a store being read in slices). */
  private behind = true;
  /** The sessions shown from the derived index hold every exchange stored, and nothing came since. */
  private restoredWhole = false;
  /** A reader's last look for idle sessions whose files are current (and whether one runs). */
  private lastReadSetAside = 0;
  private readSetAsideRunning = false;
  /** Where the live assembly keeps its long texts (decision 83); one per assembly. */
  private spill: FileTextSpill | undefined;

  constructor(private readonly emit: (event: EngineEvent) => void, private readonly log: (level: LogLevel, message: string) => void) {}

  get sessions(): LiveSessions | undefined {
    return this.live;
  }

  get currentStore(): CaptureStore | undefined {
    return this.store;
  }

  /** Starts reading the derived index of `dataDir` while its store opens; use() takes it up. */
  prefetch(dataDir: string): void {
    if (this.prefetched?.dataDir !== dataDir) this.prefetched = new DerivedSessions(dataDir).prefetch();
  }

  /** Follows `store`; the derived index, if it is current, is shown first. */
  use(store: CaptureStore, options: FollowOptions): void {
    this.detach();
    this.store = store;
    this.persist = options.persist;
    this.evictIdleMs = options.evictIdleMs ?? SET_ASIDE_AFTER_MS;
    this.behind = true;
    this.restoredWhole = false;
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    this.derived = prefetched?.dataDir === options.dataDir ? prefetched : new DerivedSessions(options.dataDir);
    this.unsubscribe = store.onChange(() => this.schedule(Math.max(0, this.lastPass + DEBOUNCE_MS - performance.now())));
    if (this.live && options.keep) {
      this.live.attach(store);
      this.schedule(0);
      return;
    }
    this.reset(store);
    // A current index shows every session, and serves their details: the exchanges behind it are
    // read (re-dissected: seconds for thousands of calls) only once the store changes, since only
    // new calls need the live assembly (docs/decisions.md, decision 49), and not at all when the
    // assembly saved with the index can go on (decision 94).
    void this.restore(store).then((current) => {
      if (!current) return this.schedule(0);
      this.behind = false;
      this.restoredWhole = true;
    }, () => this.schedule(0));
  }

  /** Stops following (the store is closing): what changed is saved first; what was assembled stays shown. */
  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (this.store && this.persist && this.dirty.size > 0 && this.restored.size === 0) void this.save();
    this.store = undefined;
  }

  /** Resolves once the derived files being written are on disk (before the engine ends). */
  async settle(): Promise<void> {
    await this.saving;
  }

  /** Forgets everything assembled (another store, or the data was cleared). */
  reset(store?: CaptureStore): void {
    this.renewSpill(store ? this.derived?.dataDir : undefined);
    this.live = store ? new LiveSessions(store, undefined, 0, { spill: this.spill }) : undefined;
    this.restored.clear();
    this.dirty.clear();
    this.emit({ type: 'sessions', reset: true, sessions: [], retired: [], streaming: [], calls: 0 });
    this.emit({ type: 'store-changed' });
  }

  /** Ends following for good (the engine ends): the spill file is closed, and its space freed. */
  close(): void {
    this.renewSpill(undefined);
  }

  /**
   * A new spill file for a new assembly, in `dir` (none without it). The old one is closed once
   * the save in progress, which may still read texts from it, is done: then the texts of a
   * capture the user cleared leave the disk.
   */
  private renewSpill(dir: string | undefined): void {
    const old = this.spill;
    this.spill = dir === undefined ? undefined : FileTextSpill.open(dir, { log: (m) => this.log('warn', m) });
    if (old) void this.saving.catch(() => undefined).then(() => old.close());
  }

  /** Every exchange stored has been read and no session is still shown from the derived index alone. */
  caughtUp(): boolean {
    return this.live !== undefined && this.store !== undefined && !this.behind && (this.restored.size === 0 || this.restoredWhole);
  }

  /** Sessions with a model call in progress. */
  streaming(): ReadonlySet<string> {
    return this.live?.streaming() ?? new Set();
  }

  summaries(): SessionSummary[] {
    const byId = new Map<string, SessionSummary>();
    for (const s of this.restored.values()) byId.set(s.id, s);
    for (const s of this.live?.assembler.sessions() ?? []) {
      const stored = byId.get(s.id);
      if (!stored || s.callCount >= stored.callCount) byId.set(s.id, s);
    }
    return [...byId.values()];
  }

  /**
   * A session in full: the live assembly's, or the stored one while the live assembly has not
   * caught up with it yet.
   */
  async detail(sessionId: string): Promise<SessionDetail | undefined> {
    const assembler = this.live?.assembler;
    const live = assembler?.session(sessionId);
    const restored = this.restored.get(live?.id ?? sessionId);
    if (live && !restored) return live;
    if (assembler?.isCold(sessionId)) {
      // Set aside: its file was saved before; without the file, its calls are read back.
      const id = assembler.currentId(sessionId);
      return (await this.derived?.detail(id)) ?? (assembler.warm(id) ? assembler.session(id) : undefined);
    }
    return (await this.derived?.detail(restored?.id ?? sessionId)) ?? live;
  }

  /** Shows the derived index if it was made from this store; resolves with whether it holds every exchange stored. */
  private async restore(store: CaptureStore): Promise<boolean> {
    const derived = this.derived;
    if (!derived) return false;
    const loaded = await derived.load((id) => store.getExchangeSummary(id)?.startedAt);
    if (this.store !== store || derived !== this.derived) return false;
    if (!loaded) {
      this.rewrite = true;
      return false;
    }
    this.rewrite = false;
    // Shown before going on from the saved assembly, which takes 17-37 ms for 5,000 calls and
    // shows the same sessions, less any that retention took meanwhile (docs/decisions.md, decision 99).
    this.emit({ type: 'sessions', reset: true, sessions: loaded.sessions, retired: [], streaming: [], calls: loaded.calls });
    const resumed = this.resume(store, loaded);
    if (resumed) {
      const live = this.live!;
      const sessions = [...live.assembler.sessions(), ...this.restored.values()];
      const calls = this.restoredCalls(live);
      if (calls !== loaded.calls || !isDeepStrictEqual(byId(sessions), byId(loaded.sessions))) {
        this.emit({ type: 'sessions', reset: true, sessions, retired: [], streaming: [], calls });
      }
    } else {
      for (const s of loaded.sessions) this.restored.set(s.id, s);
    }
    // Exchanges stored after the index was last saved (a writer killed within SAVE_EVERY_MS of
    // them) are read in behind the stored sessions, as if the store had just changed. A resumed
    // assembly is current if nothing came after the last exchange it had read: the sessions it reads
    // again are shown from the index until the store changes (decision 49).
    return newestExchange(store)?.lastExchangeId === (resumed ? loaded.resume!.afterExchangeId : loaded.lastExchangeId);
  }

  /**
   * Goes on from the saved assembly where it can (planResume): sessions idle for longer than any
   * window that links a call to a session it does not name are taken up set aside, and only the
   * exchanges from the first call of the others on are read (decision 94). False when it cannot:
   * then everything is read again once the store changes.
   */
  private resume(store: CaptureStore, loaded: LoadedIndex): boolean {
    if (this.live?.read !== 0) return false;
    const plan = planResume(loaded, Date.now() - this.evictIdleMs, (id) => store.getExchangeSummary(id) !== undefined);
    if (!plan) return false;
    const live = new LiveSessions(store, undefined, plan.afterExchangeId, { spill: this.spill });
    if (!live.resume(plan.summaries, plan.assembly, plan.calls)) return false;
    this.live = live;
    for (const s of plan.reread) this.restored.set(s.id, s);
    // The index is written again without the sessions gone.
    if (plan.gone > 0) this.rewrite = true;
    const reread = plan.reread.length > 0 ? `; ${plan.reread.length} recent sessions to read again from exchange ${plan.afterExchangeId + 1} once the store changes` : '';
    this.log('debug', `went on from the saved assembly: ${plan.summaries.length} sessions set aside (${plan.calls} calls)${reread}${plan.gone > 0 ? `; ${plan.gone} gone with retention` : ''}`);
    return true;
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private pump(): void {
    const live = this.live;
    if (!live || !this.store) return;
    this.lastPass = performance.now();
    let update: LiveUpdate;
    try {
      update = live.update(SLICE, this.lastPass + SLICE_MS);
    } catch (e) {
      this.log('error', `reading captured sessions: ${(e as Error).message}`);
      return;
    }
    for (const id of update.changed) this.dirty.add(id);
    this.behind = update.more;
    this.restoredWhole = false;
    if (update.changed.length > 0 || update.retired.length > 0 || update.streamingChanged) this.emitSessions(live, update);
    // After the sessions: a call that completed is in its session before its preview goes.
    if (update.pendingChanged.length > 0) this.emit({ type: 'pending', sessionIds: update.pendingChanged });
    this.emit({ type: 'store-changed' });
    this.progress(live, update.more);
    if (!update.more && !this.persist) this.setAsideWhereFilesAgree(live);
    if (!update.more && this.restored.size > 0) this.finishRestore(live);
    if (!update.more && this.rewrite) {
      this.rewrite = false;
      this.dirty = new Set(live.assembler.sessionIds());
      void this.save();
    } else if (this.persist && this.dirty.size > 0 && this.restored.size === 0) {
      this.saveTimer ??= setTimeout(() => {
        this.saveTimer = undefined;
        void this.save();
      }, Math.max(SAVE_EVERY_MS, SAVE_SPACING * this.lastSaveMs));
    }
    // A large store is read a slice at a time, yielding to the event loop in between.
    if (update.more) this.schedule(0);
  }

  /** Changed sessions, each the live version unless the stored one still has more calls. */
  private emitSessions(live: LiveSessions, update: LiveUpdate): void {
    const sessions: SessionSummary[] = [];
    for (const id of update.changed) {
      const s = live.assembler.session(id)?.summary;
      if (!s) continue;
      const stored = this.restored.get(s.id);
      if (stored && s.callCount < stored.callCount) continue;
      this.restored.delete(s.id);
      sessions.push(s);
    }
    const retired = update.retired.map((id) => {
      this.restored.delete(id);
      const into = live.assembler.currentId(id);
      return into !== id ? { id, into } : { id };
    });
    if (sessions.length === 0 && retired.length === 0 && !update.streamingChanged) return;
    this.emit({ type: 'sessions', reset: false, sessions, retired, streaming: [...live.streaming()], calls: Math.max(live.calls, this.restoredCalls(live)) });
  }

  /**
   * Idle sessions whose files were just saved leave memory, once caught up: a day of sessions
   * costs their summaries, not their content (decision 66). A reader saves only when the files
   * were missing, and then saves every session.
   */
  private evictSaved(live: LiveSessions): void {
    if (live !== this.live || this.restored.size > 0 || this.live.queued > 0) return;
    const setAside = live.evictIdle(Date.now() - this.evictIdleMs, this.dirty);
    // What the last save kept of them would hold their texts in memory.
    for (const id of setAside) this.derived?.setAside(id);
  }

  /**
   * A reader (following another process's capture) saves nothing: an idle session leaves its
   * memory only when the writer's file of it holds as many calls as it does. At most once a minute.
   */
  private setAsideWhereFilesAgree(live: LiveSessions): void {
    const derived = this.derived;
    const now = Date.now();
    if (!derived || this.readSetAsideRunning || this.restored.size > 0 || now - this.lastReadSetAside < READ_SET_ASIDE_EVERY_MS) return;
    this.lastReadSetAside = now;
    const ids = live.assembler.idleIds(now - this.evictIdleMs, live.streaming());
    if (ids.length === 0) return;
    this.readSetAsideRunning = true;
    void (async () => {
      for (const id of ids) {
        const stored = await derived.detail(id, false);
        if (live !== this.live) return;
        const held = live.assembler.session(id);
        if (stored && held && held.id === id && stored.summary.callCount === held.summary.callCount) live.assembler.evict(id);
      }
    })().catch(() => undefined).finally(() => { this.readSetAsideRunning = false; });
  }

  private restoredCalls(live: LiveSessions): number {
    let extra = 0;
    for (const s of this.restored.values()) extra += Math.max(0, s.callCount - (live.assembler.summary(s.id)?.callCount ?? 0));
    return live.calls + extra;
  }

  /** Caught up with every exchange: the live assembly is the truth now, for the stored sessions too. */
  private finishRestore(live: LiveSessions): void {
    const sessions: SessionSummary[] = [];
    const retired: Array<{ id: string; into?: string }> = [];
    for (const id of this.restored.keys()) {
      const s = live.assembler.summary(id);
      if (!s) retired.push({ id });
      else if (s.id !== id) retired.push({ id, into: s.id });
      else sessions.push(s);
    }
    this.restored.clear();
    this.emit({ type: 'sessions', reset: false, sessions, retired, streaming: [...live.streaming()], calls: live.calls });
    if (retired.length > 0) this.rewrite = true;
  }

  private progress(live: LiveSessions, more: boolean): void {
    const now = Date.now();
    if (more && now - this.lastProgress < PROGRESS_EVERY_MS) return;
    if (!more && this.lastProgress === 0) return;
    this.lastProgress = more ? now : 0;
    const total = live.read + live.queued;
    this.emit({ type: 'progress', done: more ? live.read : total, total });
  }

  /** Writes the changed sessions and the index; what to write is taken now, the writing is queued. */
  private save(): Promise<void> {
    const live = this.live;
    const store = this.store;
    const derived = this.derived;
    if (!live || !store || !derived) return this.saving;
    const mark = newestExchange(store);
    if (!mark) return this.saving;
    const dirty = this.dirty;
    this.dirty = new Set();
    const details: SessionDetail[] = [];
    for (const id of dirty) {
      const d = live.assembler.session(id);
      if (d && d.id === id) details.push(d);
    }
    const sessions = live.assembler.sessions();
    const calls = live.calls;
    const { afterExchangeId, open } = live.resumePoint();
    const resume = { afterExchangeId, assembly: live.assembler.resumeState(), ...(open.length > 0 ? { open } : {}) };
    this.saving = this.saving.then(async () => {
      const started = performance.now();
      try {
        const { encoded, kept } = await derived.save(mark, calls, sessions, details, resume);
        this.lastSaveMs = performance.now() - started;
        this.log('debug', `saved ${details.length} of ${sessions.length} sessions for the next start in ${Math.round(this.lastSaveMs)} ms (${encoded} pieces encoded, ${kept} kept as they were)`);
        if (details.length === sessions.length) await derived.prune(new Set(sessions.map((s) => s.id)));
      } catch (e) {
        this.log('warn', `could not save the sessions for the next start: ${(e as Error).message}`);
        return;
      }
      this.evictSaved(live);
    });
    return this.saving;
  }
}

function newestExchange(store: CaptureStore): StoreMark | undefined {
  const newest = store.listExchanges({ limit: 1 }).items[0];
  return newest && { lastExchangeId: newest.id, lastStartedAt: newest.startedAt };
}

function byId(sessions: readonly SessionSummary[]): Map<string, SessionSummary> {
  return new Map(sessions.map((s) => [s.id, s]));
}
