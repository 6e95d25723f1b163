// Composition root inside VS Code: creates the parts and wires them together, nothing more.
// Activation is cheap: the capture engine (proxy, store, dissectors, assembler) is another bundle,
// loaded on its own thread when capture starts or stored sessions are first read.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { needsRestart, otlpChanged } from '../app/capture-settings';
import { EngineClient } from '../engine/engine-client';
import { ActivityView } from './activity-view';
import { CaptureController, currentSettings, SETTINGS_SECTION } from './capture-controller';
import { CaptureData } from './capture-data';
import { Commands } from './commands';
import { DemoCommands } from './demo-command';
import { ConversationPanels } from './conversation-panel';
import { Logger } from './logger';
import { SessionsView } from './sessions-view';
import { StatusBar } from './status-bar';

let controller: CaptureController | undefined;
let engine: EngineClient | undefined;

/** What `activate` returns: for the in-host tests, and for extensions that want to follow the capture. */
export interface LlmCaptureApi {
  /** The variables a terminal gets while capture runs (undefined when stopped). */
  environment(label?: string): Record<string, string> | undefined;
  /** The Sessions view's data: node ids, and their tree items. */
  readonly sessions: vscode.TreeDataProvider<string>;
}

export function activate(context: vscode.ExtensionContext): LlmCaptureApi {
  const log = new Logger();
  engine = new EngineClient({ compileCacheDir: join(context.globalStorageUri.fsPath, 'compile-cache') });
  controller = new CaptureController(context, engine, log);
  const data = new CaptureData(engine, controller, log);
  const sessions = new SessionsView(data);
  const activity = new ActivityView(data);
  const conversations = new ConversationPanels(context.extensionUri, data, log);
  const running = controller;
  context.subscriptions.push(
    log, running, data, sessions, activity, conversations,
    new StatusBar(running, data),
    new Commands(running, data, sessions, activity, log, conversations),
    new DemoCommands(running, data, log),
    running.onDidChangeState((state) => void vscode.commands.executeCommand('setContext', 'llmCapture.running', state === 'running')),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SETTINGS_SECTION) || running.state !== 'running' || !running.settings) return;
      const next = currentSettings();
      if (otlpChanged(running.settings, next)) running.applyOtlp(next).catch((err: Error) => log.error(`OpenTelemetry settings: ${err.message}`));
      if (!needsRestart(running.settings, next)) return;
      void vscode.window.showInformationMessage('LLM Capture settings changed. Restart capture to apply them?', 'Restart').then(async (choice) => {
        if (choice !== 'Restart') return;
        await running.stop();
        await vscode.commands.executeCommand('llmCapture.start');
      });
    }),
  );
  void vscode.commands.executeCommand('setContext', 'llmCapture.running', false);
  if (currentSettings().autoStart) void vscode.commands.executeCommand('llmCapture.start');
  return { environment: (label) => running.environment(label), sessions };
}

export async function deactivate(): Promise<void> {
  // Closing: an attached window takes over (the note goes), rather than stopping with this one.
  await controller?.stop(true);
  await engine?.dispose();
  controller = undefined;
  engine = undefined;
}
