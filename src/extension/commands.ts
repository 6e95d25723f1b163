// The command handlers. Each one is short: the work is in src/app (pure or store-level) and in
// the controller; these ask the user, call, and say what happened in one line.
import { existsSync, promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { clearCaptureFiles, hasCaptureFiles } from '../app/capture-files';
import { exportHar, HarImportError, importHarInto, prepareHarImport, writeHarImport, type PreparedHarImport } from '../app/har-transfer';
import { clientName, oneLine, relativeTime } from '../app/session-tree-model';
import { writePrivateFile } from '../app/private-file';
import { formatEnvironment } from '../app/shell-format';
import { renderMarkdownTranscript } from '../conversation';
import { CaptureStore, type StoreMode } from '../store';
import type { CaptureController } from './capture-controller';
import type { CaptureData } from './capture-data';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { SessionsView } from './sessions-view';
import { afterStart, newCapturedTerminal, relaunchTerminals } from './terminals';
import type { ActivityView } from './activity-view';
import type { ConversationPanels } from './conversation-panel';

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
    command('llmCapture.openSessionMarkdown', (arg) => this.openSessionMarkdown(arg));
    command('llmCapture.clearData', () => this.clearData());
    command('llmCapture.activity.loadMore', () => activityView.loadMore());
    this.register(vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, {
      onDidChange: this.transcripts.event,
      provideTextDocumentContent: (uri) => {
        const id = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.md$/, ''));
        const detail = this.data.sessions?.assembler.session(id);
        return detail ? renderMarkdownTranscript(detail) : `# Session ${id}\n\nThis session is not loaded in this window.\n`;
      },
    }));
  }

  private async start(): Promise<void> {
    if (this.controller.state === 'running') {
      void vscode.window.showInformationMessage(`LLM Capture is already running on ${this.controller.service?.proxy.url}.`);
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
    const url = this.controller.service?.proxy.url;
    if (!hadCa) this.log.info(`created the CA certificate ${this.controller.service?.proxy.ca.certPath}`);
    void vscode.window.showInformationMessage(`LLM Capture is listening on ${url}; new terminals are proxied.`);
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
    return this.controller.service !== undefined;
  }

  private async copyEnvironment(): Promise<void> {
    if (!await this.ensureRunning('copy the environment')) return;
    const env = this.controller.environment('external');
    if (!env) return;
    await vscode.env.clipboard.writeText(formatEnvironment(env));
    void vscode.window.showInformationMessage('Copied the proxy variables (export lines); paste them into a shell outside VS Code.');
  }

  private async openCaCertificate(): Promise<void> {
    const path = this.controller.service?.proxy.ca.certPath ?? join(this.controller.dataDir, 'ca.pem');
    if (!existsSync(path)) {
      void vscode.window.showInformationMessage('There is no CA certificate yet: it is created the first time capture starts.');
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: true });
  }

  /** The running capture's store, or a store opened for this one job (closed afterwards). */
  private async withStore<T>(mode: StoreMode, fn: (store: CaptureStore) => Promise<T> | T): Promise<T | undefined> {
    const running = this.controller.service?.store;
    if (running) return fn(running);
    if (mode === 'reader' && !await hasCaptureFiles(this.controller.dataDir)) {
      void vscode.window.showInformationMessage('Nothing has been captured yet.');
      return undefined;
    }
    const store = await CaptureStore.open({ dataDir: this.controller.dataDir, mode, log: (level, m) => this.log.log(level, `store: ${m}`) });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  private async exportHar(): Promise<void> {
    const target = await vscode.window.showSaveDialog({
      title: 'Export HAR', filters: { HAR: ['har'] },
      defaultUri: vscode.Uri.file(join(defaultFolder(), `llm-capture-${stamp()}.har`)),
    });
    if (!target) return;
    const count = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Exporting HAR…' }, () =>
      this.withStore('reader', async (store) => {
        const har = exportHar(store);
        await writePrivateFile(target.fsPath, `${JSON.stringify(har, null, 2)}\n`);
        return har.log.entries.length;
      }));
    if (count !== undefined) void vscode.window.showInformationMessage(`Exported ${count} entries to ${target.fsPath}.`);
  }

  private async importHar(): Promise<void> {
    const [source] = await vscode.window.showOpenDialog({ title: 'Import HAR', filters: { HAR: ['har', 'json'] }, canSelectMany: false }) ?? [];
    if (!source) return;
    const file = source.fsPath;
    const text = await fsp.readFile(file, 'utf8');
    // Checked before any store is opened: a file that cannot be imported writes nothing.
    let prepared: PreparedHarImport;
    try {
      prepared = prepareHarImport(text);
    } catch (e) {
      if (!(e instanceof HarImportError)) throw e;
      for (const s of e.skipped) this.log.warn(`import ${file}: skipped entry ${s.index}: ${s.reason}`);
      this.log.error(`import ${file}: ${e.message}`);
      void vscode.window.showErrorMessage(`LLM Capture: cannot import ${file}: ${e.message}`, 'Show Log').then((c) => c && this.log.show());
      return;
    }
    for (const s of prepared.skipped) this.log.warn(`import ${file}: skipped entry ${s.index}: ${s.reason}`);
    const running = this.controller.service?.store;
    const count = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Importing HAR…' }, () => (running
      ? writeHarImport(running, prepared)
      : importHarInto(this.controller.dataDir, prepared, (dataDir) => CaptureStore.open({ dataDir, mode: 'writer', log: (level, m) => this.log.log(level, `store: ${m}`) }))));
    const note = this.controller.state === 'running' ? '' : ' Start capture to see them in the Sessions view.';
    if (prepared.skipped.length === 0) {
      void vscode.window.showInformationMessage(`Imported ${count} entries from ${file}.${note}`);
      return;
    }
    this.log.info(`import ${file}: imported ${count} of ${prepared.total} entries (${prepared.skipped.length} skipped)`);
    void vscode.window.showWarningMessage(`Imported ${count} of ${prepared.total} entries from ${file}; ${prepared.skipped.length} skipped (see the log).${note}`, 'Show Log')
      .then((c) => c && this.log.show());
  }

  /** A session id from a tree node id, a session id, or a quick pick. */
  private async pickSession(arg: unknown, title: string): Promise<string | undefined> {
    if (typeof arg === 'string') return this.sessionsView.node(arg)?.sessionId ?? arg;
    const live = this.data.sessions;
    const sessions = live?.assembler.sessions().sort((a, b) => b.endedAt - a.endedAt) ?? [];
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
    const detail = this.data.sessions?.assembler.session(id);
    if (!detail) throw new Error(`no session "${id}"`);
    const format = await vscode.window.showQuickPick([
      { label: 'Markdown', description: 'A readable transcript', ext: 'md' },
      { label: 'JSON', description: 'The assembled session (threads, turns, steps, usage)', ext: 'json' },
    ], { title: 'Export Session as' });
    if (!format) return;
    const target = await vscode.window.showSaveDialog({
      title: 'Export Session', filters: { [format.label]: [format.ext] },
      defaultUri: vscode.Uri.file(join(defaultFolder(), `session-${detail.id.replace(/[^\w.-]+/g, '_').slice(0, 60)}.${format.ext}`)),
    });
    if (!target) return;
    const content = format.ext === 'md' ? renderMarkdownTranscript(detail) : `${JSON.stringify(detail, null, 2)}\n`;
    await writePrivateFile(target.fsPath, content);
    void vscode.window.showInformationMessage(`Exported the session to ${target.fsPath}.`);
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

  /** The session's Markdown transcript in a read-only editor. */
  private async openSessionMarkdown(arg: unknown): Promise<void> {
    const id = await this.pickSession(arg, 'Open Session as Markdown');
    if (!id) return;
    const resolved = this.data.sessions?.assembler.session(id)?.id ?? id;
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
    await this.data.pauseHistory();
    const removed = await clearCaptureFiles(this.controller.dataDir);
    this.log.info(`cleared captured data: ${removed.join(', ') || 'nothing to remove'}`);
    this.data.reset();
    this.data.wantHistory();
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
