// Keeps the sessions of one store up to date while it is written: the store's onChange is
// debounced, and each pass reads only new or still-open exchanges (LiveSessions), a slice at a
// time, yielding in between, so that requests are answered while a large store loads. What
// changed goes out as events (src/engine/protocol.ts); the host keeps only summaries.
import { LiveSessions, type LiveUpdate } from '../app/live-sessions';
import type { SessionSummary } from '../conversation/types';
import type { CaptureStore } from '../store';
import type { EngineEvent, LogLevel } from './protocol';

const DEBOUNCE_MS = 250;
/** New exchanges read per pass; a pass dissects their bodies, so keep it short. */
const SLICE = 25;

export class SessionFollower {
  private live: LiveSessions | undefined;
  private store: CaptureStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly emit: (event: EngineEvent) => void, private readonly log: (level: LogLevel, message: string) => void) {}

  get sessions(): LiveSessions | undefined {
    return this.live;
  }

  get currentStore(): CaptureStore | undefined {
    return this.store;
  }

  /**
   * Follows `store`. With `keep`, the sessions already assembled carry over (the same data
   * directory, opened again: ids are the database's); otherwise they are forgotten.
   */
  use(store: CaptureStore, keep: boolean): void {
    this.detach();
    this.store = store;
    if (this.live && keep) this.live.attach(store);
    else this.reset(store);
    this.unsubscribe = store.onChange(() => this.schedule(DEBOUNCE_MS));
    this.schedule(0);
  }

  /** Stops following (the store is closing); what was assembled stays shown. */
  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.store = undefined;
  }

  /** Forgets everything assembled (another store, or the data was cleared). */
  reset(store?: CaptureStore): void {
    this.live = store ? new LiveSessions(store) : undefined;
    this.emit({ type: 'sessions', reset: true, sessions: [], retired: [], streaming: [], calls: 0 });
    this.emit({ type: 'store-changed' });
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
    let update: LiveUpdate;
    try {
      update = live.update(SLICE);
    } catch (e) {
      this.log('error', `reading captured sessions: ${(e as Error).message}`);
      return;
    }
    if (update.changed.length > 0 || update.retired.length > 0 || update.streamingChanged) {
      const sessions: SessionSummary[] = [];
      for (const id of update.changed) {
        const s = live.assembler.session(id)?.summary;
        if (s) sessions.push(s);
      }
      const retired = update.retired.map((id) => {
        const into = live.assembler.session(id)?.id;
        return into !== undefined && into !== id ? { id, into } : { id };
      });
      this.emit({ type: 'sessions', reset: false, sessions, retired, streaming: [...live.streaming()], calls: live.calls });
    }
    // After the sessions: a call that completed is in its session before its preview goes.
    if (update.pendingChanged.length > 0) this.emit({ type: 'pending', sessionIds: update.pendingChanged });
    this.emit({ type: 'store-changed' });
    // A large store is read a slice at a time, yielding to the event loop in between.
    if (update.more) this.schedule(0);
  }
}
