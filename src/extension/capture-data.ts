// What has been captured, as the host knows it: the session summaries the engine sends
// (src/engine/protocol.ts, `sessions` events), which sessions stream, and where merged sessions
// went. Everything else (a session's turns, its tree, a raw call) is asked of the engine when a
// view needs it. Showing history while capture is stopped, and the demo, are the engine's too.
import * as vscode from 'vscode';
import { hasCaptureFiles } from '../app/capture-files';
import type { SessionSummary } from '../conversation/types';
import type { EngineClient } from '../engine/engine-client';
import type { SessionsEvent } from '../engine/protocol';
import type { CaptureController } from './capture-controller';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

/** What changed in one update; undefined in the events below: everything did (a reset). */
export interface SessionsUpdate {
  changed: string[];
  retired: string[];
  /** Sessions that started or stopped streaming (only their tree rows change for it). */
  streamingToggled: string[];
}

export class CaptureData extends Disposable {
  private readonly summaries = new Map<string, SessionSummary>();
  /** A retired session → the one it merged into. */
  private readonly merged = new Map<string, string>();
  private streamingIds = new Set<string>();
  private calls = 0;
  private demo: string | undefined;
  private historyWanted = false;
  private readonly sessionsChanged = this.register(new vscode.EventEmitter<SessionsUpdate | undefined>());
  /** Fired with what changed, or undefined when everything did (a reset). */
  readonly onDidChangeSessions = this.sessionsChanged.event;
  private readonly storeChanged = this.register(new vscode.EventEmitter<void>());
  /** Fired (debounced) whenever the store changed: new exchanges, connections, progress. */
  readonly onDidChangeStore = this.storeChanged.event;
  private readonly demoChanged = this.register(new vscode.EventEmitter<boolean>());
  /** Fired with true when the demo is shown, false when the user's captures are again. */
  readonly onDidChangeDemo = this.demoChanged.event;
  private readonly progressChanged = this.register(new vscode.EventEmitter<{ done: number; total: number }>());
  /** Fired while the engine reads the captured exchanges into sessions (done === total: finished). */
  readonly onDidChangeProgress = this.progressChanged.event;
  private readonly pendingChanged = this.register(new vscode.EventEmitter<readonly string[]>());
  /** Fired with the sessions whose call in progress changed (ask the engine for conversation.live). */
  readonly onDidChangePending = this.pendingChanged.event;

  constructor(readonly engine: EngineClient, private readonly controller: CaptureController, private readonly log: Logger) {
    super();
    const off = engine.onEvent((event) => {
      switch (event.type) {
        case 'sessions': return this.apply(event);
        case 'pending': return this.pendingChanged.fire(event.sessionIds);
        case 'store-changed': return this.storeChanged.fire();
        case 'source': {
          const on = event.demo !== undefined;
          const changed = event.demo !== this.demo;
          this.demo = event.demo;
          if (changed) this.demoChanged.fire(on);
          return;
        }
        case 'log': return this.log.log(event.level, event.message);
        case 'progress': return this.progressChanged.fire({ done: event.done, total: event.total });
      }
    });
    this.register({ dispose: off });
    // A restarted engine has assembled nothing yet; it reads the store again if a view wanted it.
    this.register({ dispose: engine.onExit(() => {
      this.apply({ type: 'sessions', reset: true, sessions: [], retired: [], streaming: [], calls: 0 });
      if (this.historyWanted && this.controller.role !== 'serving') setTimeout(() => this.wantHistory(), 100);
    }) });
    // Attached to another window's capture: follow its store, so this window shows the sessions live.
    this.register(controller.onDidChangeState(() => {
      if (controller.role === 'attached') this.wantHistory();
    }));
  }

  get callCount(): number {
    return this.calls;
  }

  get streamingCount(): number {
    return this.streamingIds.size;
  }

  isStreaming(sessionId: string): boolean {
    return this.streamingIds.has(sessionId);
  }

  /** The demo directory being shown, or undefined for the user's own captures. */
  get demoDir(): string | undefined {
    return this.demo;
  }

  /** The session an id now belongs to (a session merged into another lives on as that one). */
  resolve(sessionId: string): string | undefined {
    let id = sessionId;
    for (let hops = 0; hops < 100 && !this.summaries.has(id); hops++) {
      const next = this.merged.get(id);
      if (next === undefined) return undefined;
      id = next;
    }
    return this.summaries.has(id) ? id : undefined;
  }

  summary(sessionId: string): SessionSummary | undefined {
    const id = this.resolve(sessionId);
    return id === undefined ? undefined : this.summaries.get(id);
  }

  /** Every session, the latest activity first. */
  sessions(): SessionSummary[] {
    return [...this.summaries.values()].sort((a, b) => b.endedAt - a.endedAt);
  }

  /**
   * A view wants to show what was captured: while capture is stopped, the engine follows the
   * store read-only (it also follows another window that captures into the same directory).
   * Nothing starts while there is nothing to read.
   */
  wantHistory(): void {
    this.historyWanted = true;
    if (this.controller.state !== 'stopped' && this.controller.state !== 'running') return;
    void (async () => {
      if (!this.engine.started && this.demo === undefined && !await hasCaptureFiles(this.controller.dataDir)) return;
      await this.engine.request('history.want', { dataDir: this.controller.dataDir });
    })().catch((e: Error) => this.log.warn(`could not open the captured data: ${e.message}`));
  }

  /** Back to the user's own captures. */
  async closeDemo(): Promise<void> {
    if (this.demo !== undefined) await this.engine.request('demo.show', { dir: null });
  }

  private apply(event: SessionsEvent): void {
    // A reset that leaves an empty list empty changes nothing shown, and firing it would cost the
    // next real change 200 ms: VS Code lets the first tree refresh through at once and holds the
    // ones that follow within 200 ms of it (extHostTreeViews' debounce). Opening a store, the
    // engine resets before it shows the stored sessions a moment later.
    if (event.reset && event.sessions.length === 0 && this.summaries.size === 0 && event.streaming.length === 0 && this.streamingIds.size === 0 && event.calls === this.calls) {
      this.merged.clear();
      return;
    }
    if (event.reset) {
      this.summaries.clear();
      this.merged.clear();
    }
    for (const r of event.retired) {
      this.summaries.delete(r.id);
      if (r.into !== undefined) this.merged.set(r.id, r.into);
    }
    for (const s of event.sessions) this.summaries.set(s.id, s);
    const streaming = new Set(event.streaming);
    const streamingToggled = [...streaming].filter((id) => !this.streamingIds.has(id));
    for (const id of this.streamingIds) if (!streaming.has(id)) streamingToggled.push(id);
    this.streamingIds = streaming;
    this.calls = event.calls;
    if (event.reset) return this.sessionsChanged.fire(undefined);
    this.sessionsChanged.fire({ changed: event.sessions.map((s) => s.id), retired: event.retired.map((r) => r.id), streamingToggled });
  }
}
