// The command handlers. Each one is short: the work is in src/app (pure or store-level) and in
// the controller; these ask the user, call, and say what happened in one line.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hasCaptureFiles } from '../app/capture-files';
import { clientName, oneLine, relativeTime } from '../app/session-tree-model';
import { loadExportAssets, sessionHtml } from '../app/session-html-export';
import { writePrivateFile } from '../app/private-file';
import { formatEnvironment } from '../app/shell-format';
import type { CaptureController } from './capture-controller';
import type { CaptureData } from './capture-data';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { SessionsView } from './sessions-view';
import { afterStart, newCapturedTerminal, relaunchTerminals } from './terminals';
import type { ActivityView } from './activity-view';
import type { ConversationPanels } from './conversation-panel';
import type { SearchHit } from '../conversation/session-search';

export const TRANSCRIPT_SCHEME = 'llm-capture-session';

export class Commands extends Disposable {
  private readonly transcripts = this.register(new vscode.EventEmitter<vscode.Uri>());

  constructor(
    private readonly controller: CaptureController,
    private readonly data: CaptureData,
    private readonly sessionsView: SessionsView,
    activityView: ActivityView,
    private readonly log: Logger,
    private readonly conversations: ConversationPanels,
  ) {
    super();
    const command = (id: string, fn: (...args: unknown[]) => unknown) => this.register(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (e) {
        this.log.error(`${id}: ${(e as Error).stack ?? (e as Error).message}`);
        void vscode.window.showErrorMessage(`LLM Capture: ${(e as Error).message}`);
      }
    }));
    command('llmCapture.start', () => this.start());
    command('llmCapture.stop', () => this.stop());
    command('llmCapture.toggle', () => (controller.state === 'running' ? this.stop() : this.start()));
    command('llmCapture.showLog', () => log.show());
    command('llmCapture.newTerminal', () => newCapturedTerminal(controller));
    command('llmCapture.relaunchTerminals', () => relaunchTerminals(log));
    command('llmCapture.copyEnvironment', () => this.copyEnvironment());
    command('llmCapture.openCaCertificate', () => this.openCaCertificate());
    command('llmCapture.exportHar', () => this.exportHar());
    command('llmCapture.importHar', () => this.importHar());
    command('llmCapture.exportSession', (arg) => this.exportSession(arg));
    command('llmCapture.openSession', (arg) => this.openSession(arg));
    command('llmCapture.searchSessions', () => this.searchSessions());
    command('llmCapture.openSessionMarkdown', (arg) => this.openSessionMarkdown(arg));
    command('llmCapture.keepConversationOpen', () => this.conversations.keep());
    command('llmCapture.clearData', () => this.clearData());
    command('llmCapture.activity.loadMore', () => activityView.loadMore());
    this.register(vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, {
      onDidChange: this.transcripts.event,
      provideTextDocumentContent: async (uri) => {
        const id = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.md$/, ''));
        const markdown = this.data.engine.started ? await this.data.engine.request('session.markdown', { sessionId: id }) : null;
        return markdown ?? `# Session ${id}\n\nThis session is not loaded in this window.\n`;
      },
    }));
  }

  private async start(): Promise<void> {
    if (this.controller.state === 'running') {
      void vscode.window.showInformationMessage(`LLM Capture is already running on ${this.controller.capture?.url}.`);
      return;
    }
    const hadCa = existsSync(join(this.controller.dataDir, 'ca.pem'));
    const error = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: hadCa ? 'Starting LLM Capture' : 'LLM Capture: creating the CA certificate' },
      () => this.controller.start(),
    );
    if (error) {
      void vscode.window.showErrorMessage(`LLM Capture could not start: ${error}`, 'Show Log').then((c) => c && this.log.show());
      return;
    }
    const url = this.controller.capture?.url;
    const servedBy = this.controller.servedBy;
    if (servedBy) {
      void vscode.window.showInformationMessage(`LLM Capture is already capturing in another window (${servedBy.window ?? `process ${servedBy.pid}`}) on ${url}; this window's new terminals use it.`);
    } else {
      if (!hadCa) this.log.info(`created the CA certificate ${this.controller.capture?.ca.certPath}`);
      void vscode.window.showInformationMessage(`LLM Capture is listening on ${url}; new terminals are proxied.`);
    }
    void afterStart(this.controller, this.log).catch((e: Error) => this.log.warn(`after start: ${e.message}`));
  }

  private async stop(): Promise<void> {
    const wasRunning = this.controller.state === 'running';
    await this.controller.stop();
    void vscode.window.showInformationMessage(wasRunning
      ? 'LLM Capture stopped; new terminals are no longer proxied.'
      : 'LLM Capture was not running.');
  }

  private async ensureRunning(what: string): Promise<boolean> {
    if (this.controller.state === 'running') return true;
    const choice = await vscode.window.showInformationMessage(`LLM Capture is not running. Start it to ${what}?`, 'Start Capture');
    if (choice !== 'Start Capture') return false;
    await this.start();
    return this.controller.capture !== undefined;
  }

  private async copyEnvironment(): Promise<void> {
    if (!await this.ensureRunning('copy the environment')) return;
    const env = this.controller.environment('external');
    if (!env) return;
    await vscode.env.clipboard.writeText(formatEnvironment(env));
    void vscode.window.showInformationMessage('Copied the proxy variables (export lines); paste them into a shell outside VS Code.');
  }

  private async openCaCertificate(): Promise<void> {
    const path = this.controller.capture?.ca.certPath ?? join(this.controller.dataDir, 'ca.pem');
    if (!existsSync(path)) {
      void vscode.window.showInformationMessage('There is no CA certificate yet: it is created the first time capture starts.');
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: true });
  }

  private async exportHar(): Promise<void> {
    if (this.controller.state !== 'running' && !await hasCaptureFiles(this.controller.dataDir)) {
      void vscode.window.showInformationMessage('Nothing has been captured yet.');
      return;
    }
    const target = await vscode.window.showSaveDialog({
      title: 'Export HAR', filters: { HAR: ['har'] },
      defaultUri: vscode.Uri.file(join(defaultFolder(), `llm-capture-${stamp()}.har`)),
    });
    if (!target) return;
    const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Exporting HAR…' }, () =>
      this.data.engine.request('har.export', { dataDir: this.controller.dataDir, file: target.fsPath }));
    if (done) void vscode.window.showInformationMessage(`Exported ${done.count} entries to ${target.fsPath}.`);
    else void vscode.window.showInformationMessage('Nothing has been captured yet.');
  }

  private async importHar(): Promise<void> {
    const [source] = await vscode.window.showOpenDialog({ title: 'Import HAR', filters: { HAR: ['har', 'json'] }, canSelectMany: false }) ?? [];
    if (!source) return;
    const file = source.fsPath;
    // The engine checks the whole file before any store is opened: a file that cannot be imported writes nothing.
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Importing HAR…' }, () =>
      this.data.engine.request('har.import', { dataDir: this.controller.dataDir, file }));
    for (const s of outcome.skipped) this.log.warn(`import ${file}: skipped entry ${s.index}: ${s.reason}`);
    if (outcome.imported === undefined) {
      this.log.error(`import ${file}: ${outcome.error ?? 'refused'}`);
      void vscode.window.showErrorMessage(`LLM Capture: cannot import ${file}: ${outcome.error ?? 'refused'}`, 'Show Log').then((c) => c && this.log.show());
      return;
    }
    const note = this.controller.state === 'running' ? '' : ' Start capture to see them in the Sessions view.';
    if (outcome.skipped.length === 0) {
      void vscode.window.showInformationMessage(`Imported ${outcome.imported} entries from ${file}.${note}`);
      return;
    }
    this.log.info(`import ${file}: imported ${outcome.imported} of ${outcome.total} entries (${outcome.skipped.length} skipped)`);
    void vscode.window.showWarningMessage(`Imported ${outcome.imported} of ${outcome.total} entries from ${file}; ${outcome.skipped.length} skipped (see the log).${note}`, 'Show Log')
      .then((c) => c && this.log.show());
  }

  /** A session id from a tree node id, a session id, or a quick pick. */
  private async pickSession(arg: unknown, title: string): Promise<string | undefined> {
    if (typeof arg === 'string') return this.sessionsView.node(arg)?.sessionId ?? arg;
    const sessions = this.data.sessions();
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage('No sessions captured in this window yet.');
      return undefined;
    }
    const now = Date.now();
    const picked = await vscode.window.showQuickPick(sessions.map((s) => ({
      label: oneLine(s.title || '(untitled session)'),
      description: `${clientName(s.client)} · ${s.model ?? '?'} · ${relativeTime(s.endedAt, now)}`,
      detail: s.id,
      id: s.id,
    })), { title, matchOnDescription: true, matchOnDetail: true });
    return picked?.id;
  }

  private async exportSession(arg: unknown): Promise<void> {
    const id = await this.pickSession(arg, 'Export Session');
    if (!id) return;
    const resolved = this.data.resolve(id) ?? id;
    const format = await vscode.window.showQuickPick([
      { label: 'Markdown', description: 'A readable transcript', ext: 'md' },
      { label: 'JSON', description: 'The assembled session (threads, turns, steps, usage)', ext: 'json' },
      { label: 'HTML', description: 'One page that opens offline in any browser, drawn as the conversation view', ext: 'html' },
    ], { title: 'Export Session as' });
    if (!format) return;
    const target = await vscode.window.showSaveDialog({
      title: 'Export Session', filters: { [format.label]: [format.ext] },
      defaultUri: vscode.Uri.file(join(defaultFolder(), `session-${resolved.replace(/[^\w.-]+/g, '_').slice(0, 60)}.${format.ext}`)),
    });
    if (!target) return;
    const content = format.ext === 'html' ? await this.sessionPage(resolved)
      : await this.data.engine.request(format.ext === 'md' ? 'session.markdown' : 'session.json', { sessionId: resolved });
    if (content === null) throw new Error(`no session "${id}"`);
    await writePrivateFile(target.fsPath, content);
    void vscode.window.showInformationMessage(`Exported the session to ${target.fsPath}.`);
  }

  /** The session as one HTML page (decision 70): the engine's view model in the conversation view's own page. */
  private async sessionPage(sessionId: string): Promise<string | null> {
    const model = await this.data.engine.request('conversation.model', { sessionId });
    return model && sessionHtml(model, await loadExportAssets(this.conversations.pageDir));
  }

  /** The conversation view; a tree node id (a turn, a thread) also scrolls it there. */
  private async openSession(arg: unknown): Promise<void> {
    const node = typeof arg === 'string' ? this.sessionsView.node(arg) : undefined;
    const id = await this.pickSession(arg, 'Open Session');
    if (!id) return;
    this.data.wantHistory();
    this.conversations.open(id, {
      ...(node?.threadId ? { threadId: node.threadId } : {}),
      ...(node?.turnIndex !== undefined ? { turnIndex: node.turnIndex } : {}),
    });
  }

  /**
   * Search Sessions: a quick pick that asks the engine as the user types (decision 71); choosing a
   * match opens its session at that turn, with the thread searched for the text and the match highlighted.
   */
  private searchSessions(): Promise<void> {
    this.data.wantHistory();
    type Item = vscode.QuickPickItem & { hit?: SearchHit; query?: string };
    const pick = vscode.window.createQuickPick<Item>();
    pick.title = 'Search Sessions';
    pick.placeholder = 'Text in prompts, answers, thinking, tools and system prompts; filters: client:codex model:opus since:2026-12-01 until:… errors:';
    // A search is typed over several seconds: a webview taking focus back meanwhile (code-server's do,
    // once the palette that ran this command closes) must not close it. Escape still does.
    pick.ignoreFocusOut = true;
    let asked = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = (text: string) => {
      const n = ++asked;
      if (text.trim() === '') {
        pick.items = [];
        pick.busy = false;
        return;
      }
      pick.busy = true;
      this.data.engine.request('sessions.search', { query: text, limit: 200 }).then((answer) => {
        if (n !== asked) return;
        pick.busy = false;
        const { query } = answer;
        pick.items = answer.hits.length === 0
          ? [{ label: 'Nothing captured matches', description: `in ${answer.sessionsSearched} session(s)`, alwaysShow: true }]
          : answer.hits.map((hit) => ({
            label: hit.snippet, alwaysShow: true, hit, query,
            description: `${oneLine(hit.title, 60)} · turn ${hit.turnIndex + 1}${hit.threadKind === 'main' ? '' : ` · ${hit.threadId}`}`,
            detail: `${clientName(hit.client)} · ${hit.model ?? 'unknown model'} · ${relativeTime(hit.startedAt, Date.now())} · in ${hit.field}${hit.matches > 1 ? ` (${hit.matches} places)` : ''}`,
          }));
        pick.title = `Search Sessions: ${answer.hits.length}${answer.truncated ? '+' : ''} turn(s) in ${answer.sessionsSearched} session(s)`;
      }, (e: unknown) => {
        if (n !== asked) return;
        pick.busy = false;
        pick.items = [{ label: `Search failed: ${e instanceof Error ? e.message : String(e)}`, alwaysShow: true }];
      });
    };
    pick.onDidChangeValue((text) => {
      clearTimeout(timer);
      timer = setTimeout(() => ask(text), 150);
    });
    return new Promise((resolve) => {
      pick.onDidAccept(() => {
        const item = pick.selectedItems[0];
        if (!item?.hit) return;
        pick.hide();
        this.conversations.open(item.hit.sessionId, { threadId: item.hit.threadId, turnIndex: item.hit.turnIndex, query: item.query ?? '' });
      });
      pick.onDidHide(() => {
        clearTimeout(timer);
        pick.dispose();
        resolve();
      });
      pick.show();
    });
  }

  /** The session's Markdown transcript in a read-only editor. */
  private async openSessionMarkdown(arg: unknown): Promise<void> {
    const id = await this.pickSession(arg, 'Open Session as Markdown');
    if (!id) return;
    const resolved = this.data.resolve(id) ?? id;
    const uri = vscode.Uri.from({ scheme: TRANSCRIPT_SCHEME, path: `/${encodeURIComponent(resolved)}.md` });
    this.transcripts.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  private async clearData(): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      'Delete everything LLM Capture has captured (sessions, exchanges, bodies)? The CA certificate is kept.',
      { modal: true }, 'Delete',
    );
    if (choice !== 'Delete') return;
    const wasRunning = this.controller.state === 'running';
    await this.controller.stop();
    const { removed } = await this.data.engine.request('data.clear', { dataDir: this.controller.dataDir });
    this.log.info(`cleared captured data: ${removed.join(', ') || 'nothing to remove'}`);
    if (wasRunning) {
      const error = await this.controller.start();
      if (error) throw new Error(`cleared, but could not restart: ${error}`);
    }
    void vscode.window.showInformationMessage(`Cleared the captured data${wasRunning ? '; capture is running again' : ''}.`);
  }
}

function defaultFolder(): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}
