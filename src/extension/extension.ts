// Composition root inside VS Code: wires the proxy to commands and terminal variables.
// (The session tree, the conversation view and the store arrive with later issues.)
import * as vscode from 'vscode';
import { startProxy, type RunningProxy } from '../proxy';

let proxy: RunningProxy | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('LLM Capture', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('llmCapture.start', async () => {
      if (proxy) return void vscode.window.showInformationMessage(`LLM Capture is already running on ${proxy.url}.`);
      try {
        proxy = await startProxy({
          dataDir: context.globalStorageUri.fsPath,
          log: (level, message) => log[level](message),
        });
      } catch (e) {
        log.error(`start failed: ${(e as Error).message}`);
        return void vscode.window.showErrorMessage(`LLM Capture could not start: ${(e as Error).message}`);
      }
      const env = context.environmentVariableCollection;
      env.persistent = false;
      env.description = `Sends agents through LLM Capture on ${proxy.url}`;
      for (const [name, value] of Object.entries(proxy.environment())) env.replace(name, value);
      vscode.window.showInformationMessage(`LLM Capture is listening on ${proxy.url}. New terminals are proxied; relaunch open ones.`);
    }),
    vscode.commands.registerCommand('llmCapture.stop', async () => {
      context.environmentVariableCollection.clear();
      await proxy?.close();
      proxy = undefined;
      vscode.window.showInformationMessage('LLM Capture stopped. New terminals are no longer proxied.');
    }),
  );
}

export async function deactivate(): Promise<void> {
  await proxy?.close();
  proxy = undefined;
}
