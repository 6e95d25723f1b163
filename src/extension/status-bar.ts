// The status bar item: state, port and the number of captured model calls; click toggles.
import * as vscode from 'vscode';
import type { CaptureController } from './capture-controller';
import type { CaptureData } from './capture-data';
import { Disposable, toDisposable } from './lifecycle';

const THROTTLE_MS = 1000;

export class StatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('llmCapture.status', vscode.StatusBarAlignment.Left, 50));
  private lastRender = 0;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly controller: CaptureController, private readonly data: CaptureData) {
    super();
    this.item.name = 'LLM Capture';
    this.item.command = 'llmCapture.toggle';
    this.register(controller.onDidChangeState(() => this.render()));
    this.register(data.onDidChangeStore(() => this.throttled()));
    this.register(data.onDidChangeSessions(() => this.throttled()));
    this.register(toDisposable(() => this.pending && clearTimeout(this.pending)));
    this.render();
    this.item.show();
  }

  private throttled(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastRender + THROTTLE_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.render();
    }, wait);
  }

  private render(): void {
    this.lastRender = Date.now();
    const capture = this.controller.capture;
    const calls = this.data.callCount;
    const streaming = this.data.streamingCount;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = { enabledCommands: ['llmCapture.stop', 'llmCapture.start', 'llmCapture.showLog', 'llmCapture.copyEnvironment'] };
    switch (this.controller.state) {
      case 'starting':
        this.item.text = '$(loading~spin) LLM Capture';
        tooltip.appendMarkdown('LLM Capture is starting…');
        break;
      case 'stopping':
        this.item.text = '$(loading~spin) LLM Capture';
        tooltip.appendMarkdown('LLM Capture is stopping…');
        break;
      case 'running': {
        const servedBy = this.controller.servedBy;
        // An attached window shows a link: the capture is another window's.
        this.item.text = `$(${streaming > 0 ? 'pulse' : servedBy ? 'link' : 'record'}) LLM :${capture?.port ?? '?'} · ${calls}`;
        const hosts = capture?.interceptedHosts ?? [];
        tooltip.appendMarkdown(`**LLM Capture is capturing** on \`${capture?.url ?? ''}\`\n\n`);
        tooltip.appendMarkdown(servedBy
          ? `Served by the window of *${servedBy.window ?? '?'}* (process ${servedBy.pid}); this window uses it and takes over on the same port if that window closes.\n\n`
          : 'Served by this window; other windows that start capture use it.\n\n');
        tooltip.appendMarkdown(`${calls} model call(s) captured${streaming > 0 ? `, ${streaming} session(s) streaming` : ''}\n\n`);
        tooltip.appendMarkdown(`Intercepting ${hosts.length} host pattern(s): ${hosts.slice(0, 6).map((h) => `\`${h}\``).join(', ')}${hosts.length > 6 ? ', …' : ''}\n\n`);
        tooltip.appendMarkdown(`CA certificate: \`${capture?.ca.certPath ?? ''}\`\n\n`);
        tooltip.appendMarkdown('New terminals are proxied. [Stop](command:llmCapture.stop) · [Copy environment](command:llmCapture.copyEnvironment) · [Log](command:llmCapture.showLog)');
        break;
      }
      default:
        this.item.text = '$(circle-outline) LLM Capture';
        tooltip.appendMarkdown(`LLM Capture is stopped${calls > 0 ? ` (${calls} model call(s) loaded)` : ''}.\n\n[Start capture](command:llmCapture.start)`);
    }
    this.item.tooltip = tooltip;
    this.item.backgroundColor = undefined;
  }
}
