// The conversation webviews: one WebviewPanel per session (reused when it is open again), each a
// page fed by src/extension/conversation-page.ts, refreshed when its live session changes, and
// restored after a reload by a WebviewPanelSerializer. As VS Code's preview editors, the panel
// a session opens in shows the next session opened, unless it was kept (decision 67): another
// session is then a message to a page that is up, not a new page. The engine builds the view model and
// reads raw calls (src/engine/protocol.ts); this only passes them on.
import * as vscode from 'vscode';
import type { ConversationPanelState } from '../../src/shared/conversation-protocol';
import { PanelRegistry } from '../app/panel-registry';
import type { CaptureData, SessionsUpdate } from './capture-data';
import { ConversationPanel, panelTitle, type ConversationFocus } from './conversation-page';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

export const CONVERSATION_VIEW_TYPE = 'llmCapture.conversation';
/** Two opens of the same session this close together are a double-click: the panel is kept. */
const DOUBLE_CLICK_MS = 500;
/** True while the active editor is the preview conversation panel (the Keep Open button shows). */
const PREVIEW_CONTEXT = 'llmCapture.conversationPreview';

function previewEnabled(): boolean {
  return vscode.workspace.getConfiguration('llmCapture').get<boolean>('conversationPreview', true);
}

export class ConversationPanels extends Disposable {
  private readonly panels = new PanelRegistry<ConversationPanel>();
  /** The conversation page's files (dist/webview), which an HTML export writes into its page. */
  get pageDir(): string {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview').fsPath;
  }

  /** The panel the next session opened is shown in, if it is still open and not kept. */
  private preview: ConversationPanel | undefined;
  private lastOpen: { sessionId: string; at: number } | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly data: CaptureData, private readonly log: Logger) {
    super();
    this.register(data.onDidChangeSessions((u) => this.onUpdate(u)));
    this.register(data.onDidChangePending((ids) => this.onPending(ids)));
    this.register(vscode.window.registerWebviewPanelSerializer(CONVERSATION_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const sessionId = typeof state === 'object' && state !== null && typeof (state as ConversationPanelState).sessionId === 'string'
          ? (state as ConversationPanelState).sessionId : undefined;
        if (!sessionId) {
          panel.dispose();
          return;
        }
        this.data.wantHistory();
        this.adopt(panel, sessionId, {}, true);
      },
    }));
  }

  /**
   * Shows the session's panel, scrolled to a thread or turn when given one: its own panel if it
   * has one, else the preview panel (showing this session instead), else a new (preview) panel.
   */
  open(sessionId: string, focus: ConversationFocus = {}): void {
    const id = this.data.resolve(sessionId) ?? sessionId;
    const now = Date.now();
    const again = this.lastOpen?.sessionId === id && now - this.lastOpen.at < DOUBLE_CLICK_MS;
    this.lastOpen = { sessionId: id, at: now };
    const existing = this.panels.get(id);
    if (existing) {
      if (again && existing === this.preview) this.keep();
      existing.panel.reveal();
      existing.focus(focus);
      return;
    }
    const previewing = previewEnabled();
    if (!previewing && this.preview) this.keep();
    const preview = this.preview;
    if (preview) {
      this.panels.retarget(preview, id);
      preview.show(id, focus);
      preview.panel.reveal();
      return;
    }
    const title = this.data.summary(id)?.title;
    const panel = vscode.window.createWebviewPanel(CONVERSATION_VIEW_TYPE, panelTitle(title, id), vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    const p = this.adopt(panel, id, focus);
    if (previewing) {
      this.preview = p;
      this.updatePreviewContext();
    }
  }

  /** The preview panel stays on its session: the next session opens in a panel of its own. */
  keep(): void {
    this.preview = undefined;
    this.updatePreviewContext();
  }

  private adopt(panel: vscode.WebviewPanel, sessionId: string, focus: ConversationFocus = {}, restored = false): ConversationPanel {
    panel.webview.options = webviewOptions(this.extensionUri);
    const p = new ConversationPanel(panel, sessionId, this.extensionUri, this.data, this.log, focus, restored);
    panel.onDidDispose(() => {
      this.panels.remove(p);
      p.dispose();
      if (this.preview === p) this.keep();
    });
    panel.onDidChangeViewState(() => this.updatePreviewContext());
    this.panels.add(p);
    return p;
  }

  private updatePreviewContext(): void {
    const active = this.preview !== undefined && !this.preview.closed && this.preview.panel.active;
    void vscode.commands.executeCommand('setContext', PREVIEW_CONTEXT, active);
  }

  private onUpdate(update: SessionsUpdate | undefined): void {
    // Only retired sessions (and panels still waiting for theirs) can have moved; a full reload can move any.
    const check = update && new Set([...update.retired, ...this.panels.values().filter((p) => p.missing).map((p) => p.sessionId)]);
    const moved = new Set<ConversationPanel>();
    for (const o of this.panels.followMerges((id) => (check && !check.has(id) ? id : this.data.resolve(id)))) {
      if (o.kind === 'retargeted') moved.add(o.panel);
      // The conversation the closed panel showed continues in the survivor's.
      else o.survivor.panel.reveal(undefined, true);
    }
    for (const p of this.panels.values()) {
      if (update && !update.changed.includes(p.sessionId) && !moved.has(p) && !p.missing) continue;
      p.refresh();
      p.sendLive();
    }
  }

  /** Calls in progress changed: their previews go to the panels of their sessions. */
  private onPending(sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.panels.get(id)?.sendLive();
  }

  override dispose(): void {
    this.panels.disposeAll();
    super.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

