// The Sessions view: a thin TreeDataProvider over the pure model in src/app/session-tree-model.ts.
// A session's subtree is built when it is first expanded and rebuilt only when that session changes;
// changes fire per session node, and the whole tree only when sessions appear, merge or reorder.
import * as vscode from 'vscode';
import {
  buildSessionTree, sessionNode, sessionNodeId, type SessionTree, type TreeNodeDescriptor,
} from '../app/session-tree-model';
import type { LiveUpdate } from '../app/live-sessions';
import type { CaptureData } from './capture-data';
import { Disposable, toDisposable } from './lifecycle';

const COLLAPSIBLE: Record<TreeNodeDescriptor['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export class SessionsView extends Disposable implements vscode.TreeDataProvider<string> {
  private readonly changed = this.register(new vscode.EventEmitter<string | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  /** Session id → its built subtree. */
  private readonly trees = new Map<string, SessionTree>();
  /** Node id → descriptor, for every node handed out. */
  private readonly nodes = new Map<string, TreeNodeDescriptor>();
  private order: string[] = [];

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
    // Relative times ("5m ago") age: redraw a visible tree once a minute.
    const clock = setInterval(() => {
      if (!view.visible || this.nodes.size === 0) return;
      this.trees.clear();
      this.changed.fire(undefined);
    }, 60_000);
    this.register(toDisposable(() => clearInterval(clock)));
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
    item.tooltip = n.tooltip;
    item.iconPath = new vscode.ThemeIcon(n.icon);
    item.contextValue = n.kind;
    // A click opens the conversation view at the node (the twistie still only expands or collapses).
    if (n.kind === 'turn' || n.kind === 'session' || n.kind === 'thread') item.command = { command: 'llmCapture.openSession', title: 'Open Session', arguments: [n.id] };
    return item;
  }

  getChildren(id?: string): string[] {
    const live = this.data.sessions;
    if (!live) return [];
    if (id === undefined) {
      const streaming = live.streaming();
      const now = Date.now();
      const summaries = live.assembler.sessions().sort((a, b) => b.endedAt - a.endedAt);
      this.order = summaries.map((s) => s.id);
      for (const s of summaries) {
        const node = sessionNode(s, { now, streaming: streaming.has(s.id) });
        this.nodes.set(node.id, node);
      }
      return summaries.map((s) => sessionNodeId(s.id));
    }
    const n = this.nodes.get(id);
    if (!n) return [];
    if (n.kind === 'session') return this.tree(n.sessionId)?.root.children ?? [];
    return n.children;
  }

  private tree(sessionId: string): SessionTree | undefined {
    const cached = this.trees.get(sessionId);
    if (cached) return cached;
    const live = this.data.sessions;
    const detail = live?.assembler.session(sessionId);
    if (!live || !detail) return undefined;
    const tree = buildSessionTree(detail, { now: Date.now(), streaming: live.streaming().has(sessionId) });
    for (const [nodeId, node] of tree.nodes) this.nodes.set(nodeId, node);
    this.trees.set(sessionId, tree);
    return tree;
  }

  private forget(sessionId: string): void {
    const tree = this.trees.get(sessionId);
    if (tree) for (const nodeId of tree.nodes.keys()) this.nodes.delete(nodeId);
    this.trees.delete(sessionId);
  }

  private onUpdate(update: LiveUpdate | undefined): void {
    const live = this.data.sessions;
    if (!update || !live) {
      this.trees.clear();
      this.nodes.clear();
      return this.changed.fire(undefined);
    }
    for (const id of [...update.changed, ...update.retired]) this.forget(id);
    const next = live.assembler.sessions().sort((a, b) => b.endedAt - a.endedAt).map((s) => s.id);
    const sameOrder = next.length === this.order.length && next.every((id, i) => id === this.order[i]);
    if (!sameOrder || update.retired.length > 0) return this.changed.fire(undefined);
    const touched = new Set(update.changed);
    if (update.streamingChanged) for (const id of next) touched.add(id);
    const streaming = live.streaming();
    const now = Date.now();
    for (const id of touched) {
      const summary = live.assembler.session(id)?.summary;
      if (!summary) continue;
      this.forget(id);
      this.nodes.set(sessionNodeId(id), sessionNode(summary, { now, streaming: streaming.has(id) }));
      this.changed.fire(sessionNodeId(id));
    }
  }
}
