// What has been captured, kept up to date while the capture runs: the store's onChange is
// debounced, and each pass reads only new or still-open exchanges (LiveSessions), in slices, so
// the extension host never blocks on a large store. In demo mode (capture stopped) the read-only
// store followed is the demo's directory instead of the user's.
import * as vscode from 'vscode';
import { hasCaptureFiles } from '../app/capture-files';
import { LiveSessions, type LiveUpdate } from '../app/live-sessions';
import { CaptureStore } from '../store';
import type { CaptureController } from './capture-controller';
import { Disposable, toDisposable } from './lifecycle';
import type { Logger } from './logger';

const DEBOUNCE_MS = 250;
/** New exchanges read per pass; a pass dissects their bodies, so keep it short. */
const SLICE = 25;

export class CaptureData extends Disposable {
  private live: LiveSessions | undefined;
  private store: CaptureStore | undefined;
  /** While capture is stopped: a read-only store on the same directory, for browsing what was captured. */
  private reader: CaptureStore | undefined;
  private readerOpening = false;
  private historyWanted = false;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sessionsChanged = this.register(new vscode.EventEmitter<LiveUpdate | undefined>());
  /** Fired with what changed, or undefined when everything did (a reset). */
  readonly onDidChangeSessions = this.sessionsChanged.event;
  private readonly storeChanged = this.register(new vscode.EventEmitter<void>());
  /** Fired (debounced) whenever the store changed: new exchanges, connections, progress. */
  readonly onDidChangeStore = this.storeChanged.event;
  /** While set: the demo's directory, followed (read-only) instead of the user's while capture is stopped. */
  private demo: string | undefined;
  private readonly demoChanged = this.register(new vscode.EventEmitter<boolean>());
  /** Fired with true when the demo is shown, false when the user's captures are again. */
  readonly onDidChangeDemo = this.demoChanged.event;
  private readonly pendingChanged = this.register(new vscode.EventEmitter<readonly string[]>());
  /** Fired with the sessions whose call in progress changed (live previews: LiveSessions.pending). */
  readonly onDidChangePending = this.pendingChanged.event;

  constructor(private readonly controller: CaptureController, private readonly log: Logger) {
    super();
    this.register(controller.onDidChangeState(() => this.follow()));
    this.register(toDisposable(() => {
      this.detach();
      void this.closeReader();
    }));
    this.follow();
  }

  get sessions(): LiveSessions | undefined {
    return this.live;
  }

  /** The open store while capture runs. */
  get currentStore(): CaptureStore | undefined {
    return this.store;
  }

  get callCount(): number {
    return this.live?.calls ?? 0;
  }

  /** The demo directory being shown, or undefined for the user's own captures. */
  get demoDir(): string | undefined {
    return this.demo;
  }

  /** Shows the demo's store (read-only) instead of the user's; capture must be stopped. */
  async showDemo(dir: string): Promise<void> {
    await this.switchTo(dir);
  }

  /** Back to the user's own captures. */
  async closeDemo(): Promise<void> {
    if (this.demo !== undefined) await this.switchTo(undefined);
  }

  private async switchTo(demo: string | undefined): Promise<void> {
    await this.pauseHistory();
    this.setDemo(demo);
    this.wantHistory();
  }

  /**
   * Forgets the sessions of the store left behind: the demo's and the user's never mix, and a
   * demo run again is a new store whose exchange ids start over.
   */
  private setDemo(demo: string | undefined): void {
    const changed = demo !== this.demo;
    this.demo = demo;
    this.live = undefined;
    this.sessionsChanged.fire(undefined);
    this.storeChanged.fire();
    if (changed) this.demoChanged.fire(demo !== undefined);
  }

  /**
   * A view wants to show what was captured: while capture is stopped, open the store read-only
   * (asynchronously; a reader also follows another window that is capturing into the same directory).
   */
  wantHistory(): void {
    this.historyWanted = true;
    void this.openReader();
  }

  /** Stops browsing history until wantHistory() again (before the files are deleted). */
  async pauseHistory(): Promise<void> {
    this.historyWanted = false;
    while (this.readerOpening) await new Promise((r) => setTimeout(r, 20));
    await this.closeReader();
  }

  /** Closes the read-only store (before the files are deleted or a writer takes over). */
  async closeReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (!reader) return;
    if (this.store === reader) this.detach();
    try {
      await reader.close();
    } catch (e) {
      this.log.warn(`closing the read-only store: ${(e as Error).message}`);
    }
  }

  private async openReader(): Promise<void> {
    if (!this.historyWanted || this.reader || this.readerOpening || this.controller.state !== 'stopped' || this.isDisposed) return;
    this.readerOpening = true;
    try {
      const dir = this.demo ?? this.controller.dataDir;
      if (!await hasCaptureFiles(dir)) return;
      const reader = await CaptureStore.open({ dataDir: dir, mode: 'reader', log: (level, m) => this.log.log(level, `store (read-only): ${m}`) });
      if (this.controller.state !== 'stopped' || this.isDisposed || !this.historyWanted || dir !== (this.demo ?? this.controller.dataDir)) {
        await reader.close();
        return;
      }
      this.reader = reader;
      this.use(reader);
    } catch (e) {
      this.log.warn(`could not open the captured data read-only: ${(e as Error).message}`);
    } finally {
      this.readerOpening = false;
    }
  }

  /** Forgets everything assembled (after the data was cleared). */
  reset(): void {
    this.live = this.store ? new LiveSessions(this.store) : undefined;
    this.sessionsChanged.fire(undefined);
    this.storeChanged.fire();
    if (this.store) this.schedule(0);
  }

  private follow(): void {
    const state = this.controller.state;
    // Capturing shows what is captured: starting leaves the demo.
    if (state !== 'stopped' && this.demo !== undefined) this.setDemo(undefined);
    if (state !== 'stopped') void this.closeReader();
    const store = state === 'running' ? this.controller.service?.store : undefined;
    if (state === 'stopped') {
      if (this.store && this.store !== this.reader) this.detach();
      void this.openReader();
      return;
    }
    if (store === this.store) return;
    this.detach();
    if (store) this.use(store);
  }

  private use(store: CaptureStore): void {
    this.detach();
    this.store = store;
    if (this.live) this.live.attach(store);
    else this.live = new LiveSessions(store);
    this.unsubscribe = store.onChange(() => this.schedule(DEBOUNCE_MS));
    this.schedule(0);
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.store = undefined;
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private pump(): void {
    if (!this.live || !this.store) return;
    let update: LiveUpdate;
    try {
      update = this.live.update(SLICE);
    } catch (e) {
      this.log.error(`reading captured sessions: ${(e as Error).message}`);
      return;
    }
    if (update.changed.length > 0 || update.retired.length > 0 || update.streamingChanged) this.sessionsChanged.fire(update);
    // After the sessions: a call that completed is in its session before its preview goes.
    if (update.pendingChanged.length > 0) this.pendingChanged.fire(update.pendingChanged);
    this.storeChanged.fire();
    // A large store is read a slice at a time, yielding to the event loop in between.
    if (update.more) this.schedule(0);
  }
}
