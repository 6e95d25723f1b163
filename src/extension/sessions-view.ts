// The Sessions view: a thin TreeDataProvider over the pure model in src/app/session-tree-model.ts.
// Session nodes come from the summaries the host holds; a session's subtree is asked of the engine
// when it is first expanded and again only when that session changes. Changes fire per session
// node, and the whole tree when sessions appear or merge, and at most once a second when they reorder.
import * as vscode from 'vscode';
import { relativeTime, sessionNode, sessionNodeId, type TreeNodeDescriptor } from '../app/session-tree-model';
import type { SessionSummary } from '../conversation/types';
import type { CaptureData, SessionsUpdate } from './capture-data';
import { Disposable, toDisposable } from './lifecycle';

/** Sessions that only changed places are moved at most this often. */
const RELIST_MS = 1000;

const COLLAPSIBLE: Record<TreeNodeDescriptor['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export class SessionsView extends Disposable implements vscode.TreeDataProvider<string> {
  private readonly changed = this.register(new vscode.EventEmitter<string | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  /** Session id → its subtree's node ids (the session's own node first), as the engine built it. */
  private readonly trees = new Map<string, Promise<string[]>>();
  /** Node id → descriptor, for every node handed out. */
  private readonly nodes = new Map<string, TreeNodeDescriptor>();
  private order: string[] = [];
  private relistTimer: NodeJS.Timeout | undefined;
  /** What each session's row was built from (sessionRow). */
  private readonly rows = new Map<string, { summary: SessionSummary; streaming: boolean; when: string }>();

  constructor(private readonly data: CaptureData) {
    super();
    this.register(data.onDidChangeSessions((u) => this.onUpdate(u)));
    const view = this.register(vscode.window.createTreeView('llmCapture.sessions', { treeDataProvider: this, showCollapseAll: true }));
    // Showing the view is what loads earlier captures (read-only) while capture is stopped.
    if (view.visible) data.wantHistory();
    this.register(view.onDidChangeVisibility((e) => e.visible && data.wantHistory()));
    // In demo mode the view says so, and how to get back to the user's own captures.
    const showMode = (): void => {
      view.description = data.demoDir ? 'Demo' : undefined;
      view.message = data.demoDir
        ? 'Demo sessions: a scripted agent recorded through the proxy on this machine. Close Demo (×, above) or Start Capture to see your own captures.'
        : undefined;
    };
    this.register(data.onDidChangeDemo(showMode));
    // A large store is read into sessions in the background (what was stored shows meanwhile): the
    // view's own progress bar and its hover say how far, without moving the rows under the pointer.
    let reading: { report(value: { message?: string }): void; done(): void } | undefined;
    this.register(data.onDidChangeProgress(({ done, total }) => {
      if (done >= total) {
        reading?.done();
        reading = undefined;
        return;
      }
      reading ??= viewProgress(view.title ?? 'Sessions');
      reading.report({ message: `reading the captured exchanges: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}` });
    }));
    this.register(toDisposable(() => reading?.done()));
    // Relative times ("5m ago") age: redraw a visible tree once a minute.
    const clock = setInterval(() => {
      if (!view.visible || this.nodes.size === 0) return;
      this.trees.clear();
      this.relist();
    }, 60_000);
    this.register(toDisposable(() => {
      clearInterval(clock);
      clearTimeout(this.relistTimer);
    }));
  }

  /** The node for an id handed out by this view (commands receive ids). */
  node(id: string): TreeNodeDescriptor | undefined {
    return this.nodes.get(id);
  }

  getTreeItem(id: string): vscode.TreeItem {
    const n = this.nodes.get(id);
    if (!n) return new vscode.TreeItem('(gone)');
    const item = new vscode.TreeItem(n.label, COLLAPSIBLE[n.collapsible]);
    item.id = n.id;
    item.description = n.description;
    item.iconPath = new vscode.ThemeIcon(n.icon);
    item.contextValue = n.kind;
    // A click opens the conversation view at the node (the twistie still only expands or collapses).
    if (n.kind === 'turn' || n.kind === 'session' || n.kind === 'thread') item.command = { command: 'llmCapture.openSession', title: 'Open Session', arguments: [n.id] };
    return item;
  }

  /**
   * The tooltip, on hover only: every refresh sends the rows' items to the window, and a day's
   * sessions' tooltips would go with each one (VS Code asks for it when the item has none).
   */
  resolveTreeItem(item: vscode.TreeItem, id: string): vscode.TreeItem {
    item.tooltip = this.nodes.get(id)?.tooltip;
    return item;
  }

  async getChildren(id?: string): Promise<string[]> {
    if (id === undefined) {
      const now = Date.now();
      const summaries = this.data.sessions();
      this.order = summaries.map((s) => s.id);
      for (const s of summaries) this.sessionRow(s, now);
      return summaries.map((s) => sessionNodeId(s.id));
    }
    const n = this.nodes.get(id);
    if (!n) return [];
    if (n.kind !== 'session') return n.children;
    await this.tree(n.sessionId);
    return this.nodes.get(id)?.children ?? [];
  }

  /** Asks the engine for a session's subtree once, and keeps its nodes until the session changes. */
  private tree(sessionId: string): Promise<string[]> {
    const cached = this.trees.get(sessionId);
    if (cached) return cached;
    const built = this.data.engine.request('sessions.tree', { sessionId }).then((nodes) => {
      if (this.trees.get(sessionId) !== built) return [];
      for (const node of nodes ?? []) this.nodes.set(node.id, node);
      // Its row now is the engine's; the next listing builds it again from the summary shown.
      this.rows.delete(sessionId);
      return (nodes ?? []).map((node) => node.id);
    }, () => []);
    this.trees.set(sessionId, built);
    return built;
  }

  /** The session's subtree is asked for again when next shown (its nodes are overwritten then). */
  private forget(sessionId: string): void {
    this.trees.delete(sessionId);
  }

  private onUpdate(update: SessionsUpdate | undefined): void {
    if (!update) {
      this.trees.clear();
      this.nodes.clear();
      this.rows.clear();
      return this.relist();
    }
    for (const id of [...update.changed, ...update.retired]) this.forget(id);
    for (const id of update.retired) this.rows.delete(id);
    const next = this.data.sessions().map((s) => s.id);
    const listed = new Set(this.order);
    if (next.length !== this.order.length || update.retired.length > 0 || next.some((id) => !listed.has(id))) return this.relist();
    // The same sessions in another order (a call ended in one that was not on top): the rows are
    // updated where they are, and moved at most once a second. Each move lists every session
    // again, and with several agents running the order changes with nearly every call.
    if (next.some((id, i) => id !== this.order[i])) this.relistTimer ??= setTimeout(() => this.relist(), RELIST_MS);
    // A session that started or stopped streaming redraws its own row, not every row: a day holds hundreds.
    const touched = new Set([...update.changed, ...update.streamingToggled]);
    const now = Date.now();
    for (const id of touched) {
      const summary = this.data.summary(id);
      if (!summary) continue;
      this.sessionRow(summary, now);
      this.changed.fire(sessionNodeId(id));
    }
  }

  /** The whole list asked for again (VS Code calls getChildren() for the root). */
  private relist(): void {
    clearTimeout(this.relistTimer);
    this.relistTimer = undefined;
    this.changed.fire(undefined);
  }

  /**
   * A session's row, built again only when what it shows changed: the whole list is asked for
   * again whenever the order changes (a call ends in a session that was not on top), and a day
   * holds hundreds of sessions. It keeps the children the engine's subtree gave it.
   */
  private sessionRow(summary: SessionSummary, now: number): void {
    const id = sessionNodeId(summary.id);
    const streaming = this.data.isStreaming(summary.id);
    const when = relativeTime(summary.endedAt, now);
    const shown = this.rows.get(summary.id);
    const current = this.nodes.get(id);
    if (current && shown?.summary === summary && shown.streaming === streaming && shown.when === when) return;
    this.rows.set(summary.id, { summary, streaming, when });
    this.nodes.set(id, sessionNode(summary, { now, streaming, ...(current ? { children: current.children } : {}) }));
  }
}

/** A progress bar on the Sessions view until done() (VS Code shows it under the view's title). */
function viewProgress(title: string): { report(value: { message?: string }): void; done(): void } {
  let finished = false;
  let finish: () => void = () => undefined;
  let last: { message?: string } | undefined;
  let report: (value: { message?: string }) => void = (value) => { last = value; };
  // The task may start after the first report, or after done(): neither is lost.
  void vscode.window.withProgress({ location: { viewId: 'llmCapture.sessions' }, title }, (progress) => {
    report = (value) => progress.report(value);
    if (last) progress.report(last);
    return new Promise<void>((resolve) => {
      finish = resolve;
      if (finished) resolve();
    });
  });
  return {
    report: (value) => report(value),
    done: () => {
      finished = true;
      finish();
    },
  };
}
