// The Activity view: the raw log, newest first, a page at a time ("Load more"), errors marked.
import * as vscode from 'vscode';
import type { LogEntry } from '../app/activity';
import { relativeTime } from '../app/session-tree-model';
import type { CaptureData } from './capture-data';
import { Disposable, toDisposable } from './lifecycle';

const PAGE = 50;
const MAX = 1000;
const REFRESH_MS = 1000;

type ActivityNode = { type: 'entry'; entry: LogEntry } | { type: 'more' };

export class ActivityView extends Disposable implements vscode.TreeDataProvider<ActivityNode> {
  private readonly changed = this.register(new vscode.EventEmitter<ActivityNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private limit = PAGE;
  private entries: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly view: vscode.TreeView<ActivityNode>;

  constructor(private readonly data: CaptureData) {
    super();
    this.view = this.register(vscode.window.createTreeView('llmCapture.activity', { treeDataProvider: this }));
    this.register(data.onDidChangeStore(() => this.refreshSoon()));
    this.register(this.view.onDidChangeVisibility(() => this.refreshSoon()));
    this.register(toDisposable(() => this.timer && clearTimeout(this.timer)));
  }

  loadMore(): void {
    this.limit = Math.min(MAX, this.limit + PAGE);
    this.refreshSoon(0);
  }

  private refreshSoon(delay = REFRESH_MS): void {
    if (this.timer || !this.view.visible) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire(undefined);
    }, delay);
  }

  getTreeItem(node: ActivityNode): vscode.TreeItem {
    if (node.type === 'more') {
      const item = new vscode.TreeItem('Load more…');
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: 'llmCapture.activity.loadMore', title: 'Load more' };
      return item;
    }
    const e = node.entry;
    const at = Date.parse(e.time);
    const item = new vscode.TreeItem(`${e.method ?? 'CONNECT'} ${shortUrl(e.url)}`);
    item.id = e.key;
    item.description = [e.status ?? '', e.kind, e.label ?? '', relativeTime(at, Date.now())].filter((x) => x !== '').join(' · ');
    item.iconPath = e.error
      ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'))
      : new vscode.ThemeIcon(e.kind === 'tunnel' ? 'lock' : e.kind === 'websocket' ? 'plug' : e.kind === 'sse' ? 'radio-tower' : 'arrow-swap');
    return item;
  }

  /** The tooltip on hover only, as the Sessions view does: the page is sent again every second while it changes. */
  resolveTreeItem(item: vscode.TreeItem, node: ActivityNode): vscode.TreeItem {
    if (node.type !== 'entry') return item;
    const e = node.entry;
    item.tooltip = [
      `${e.method ?? 'CONNECT'} ${e.url}`,
      `${e.time}${e.label ? ` · terminal ${e.label}` : ''}`,
      `Status: ${e.status ?? '-'} · ${e.kind}`,
      e.requestBytes !== undefined ? `Bytes: ${e.requestBytes} sent, ${e.responseBytes ?? 0} received` : '',
      e.durationMs !== undefined ? `Duration: ${Math.round(e.durationMs)} ms` : 'In progress',
      e.error ? `Error: ${e.error}` : '',
    ].filter((x) => x !== '').join('\n');
    return item;
  }

  async getChildren(node?: ActivityNode): Promise<ActivityNode[]> {
    if (node) return [];
    if (this.data.engine.started) {
      try {
        this.entries = await this.data.engine.request('activity.page', { limit: this.limit }) ?? [];
      } catch {
        // The engine is restarting, or the store closed under it: keep showing the last page.
      }
    }
    const nodes: ActivityNode[] = this.entries.map((entry) => ({ type: 'entry', entry }));
    if (this.entries.length >= this.limit && this.limit < MAX) nodes.push({ type: 'more' });
    return nodes;
  }
}

function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}
