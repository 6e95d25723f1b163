// "Open a Demo Session" and "Close Demo": the scripted demo (src/demo) recorded by the engine into
// <global storage>/demo, then shown in the Sessions view and the conversation view in place of
// the user's captures (the engine's demo mode), so both can be explored before any agent runs.
// The user's own store is never opened for writing, and Start Capture leaves the demo.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CaptureController } from './capture-controller';
import type { CaptureData } from './capture-data';
import { CONVERSATION_VIEW_TYPE } from './conversation-panel';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

/** How long the Sessions view may take to read the demo store before the conversation opens anyway. */
const LOAD_WAIT_MS = 15_000;

export class DemoCommands extends Disposable {
  private running = false;
  /** The conversation tabs open before the demo was shown: the user's, kept when it closes. */
  private userTabs = new Set<string>();

  constructor(private readonly controller: CaptureController, private readonly data: CaptureData, private readonly log: Logger) {
    super();
    this.register(vscode.commands.registerCommand('llmCapture.openDemo', () => this.open()));
    this.register(vscode.commands.registerCommand('llmCapture.closeDemo', () => this.data.closeDemo()));
    this.register(data.onDidChangeDemo((on) => {
      void vscode.commands.executeCommand('setContext', 'llmCapture.demo', on);
      if (on) this.userTabs = new Set(conversationTabs().map((t) => t.label));
      else void this.closeDemoConversations();
    }));
    void vscode.commands.executeCommand('setContext', 'llmCapture.demo', false);
  }

  /** The demo lives beside the user's store, in a directory of its own. */
  get demoDir(): string {
    return join(this.controller.dataDir, 'demo');
  }

  private async open(): Promise<void> {
    if (this.running) return;
    if (this.controller.state !== 'stopped') {
      const choice = await vscode.window.showInformationMessage(
        'The demo is shown while capture is stopped, so that it never mixes with your captures. Stop capture and open the demo?',
        { modal: true }, 'Stop Capture and Open Demo',
      );
      if (!choice) return;
      await this.controller.stop();
    }
    this.running = true;
    try {
      // The previous run's store is deleted and written again: nothing may be reading it, or show it.
      if (this.data.demoDir !== undefined) await this.closeDemoConversations();
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'LLM Capture: recording a demo session through the proxy…' },
        () => this.data.engine.request('demo.run', { dataDir: this.demoDir }),
      );
      await vscode.commands.executeCommand('llmCapture.sessions.focus');
      await this.loaded(result.claudeSessionId);
      await vscode.commands.executeCommand('llmCapture.openSession', result.claudeSessionId);
    } catch (e) {
      this.log.error(`demo: ${(e as Error).stack ?? (e as Error).message}`);
      this.data.wantHistory();
      void vscode.window.showErrorMessage(`LLM Capture: the demo could not run: ${(e as Error).message}`, 'Show Log').then((c) => c && this.log.show());
    } finally {
      this.running = false;
    }
  }

  /** Demo conversations would go stale once their store is left or recorded again. */
  private async closeDemoConversations(): Promise<void> {
    await vscode.window.tabGroups.close(conversationTabs().filter((t) => !this.userTabs.has(t.label)));
  }

  /** Resolves once the Sessions view's data holds the session (or after LOAD_WAIT_MS). */
  private loaded(sessionId: string): Promise<void> {
    const has = () => this.data.summary(sessionId) !== undefined;
    if (has()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      };
      const timer = setTimeout(done, LOAD_WAIT_MS);
      const listener = this.data.onDidChangeSessions(() => has() && done());
    });
  }
}

function conversationTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(CONVERSATION_VIEW_TYPE));
}
