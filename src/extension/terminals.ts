// Terminals: a new terminal with its own label (proxy credentials tag its connections), relaunching
// the terminals that were open before capture started, and the Codex daemon warning.
import * as vscode from 'vscode';
import { bypassesProxy, findCodexDaemons } from '../app/codex-daemon';
import type { CaptureController } from './capture-controller';
import type { Logger } from './logger';

let counter = 0;

export async function newCapturedTerminal(controller: CaptureController, label?: string): Promise<vscode.Terminal | undefined> {
  if (controller.state !== 'running') {
    const error = await controller.start();
    if (error) {
      void vscode.window.showErrorMessage(`LLM Capture could not start: ${error}`);
      return undefined;
    }
  }
  const chosen = label ?? await vscode.window.showInputBox({
    title: 'New Captured Terminal',
    prompt: 'A label for this terminal; its captured connections are tagged with it',
    value: `terminal-${++counter}`,
    validateInput: (v) => (v.trim().length === 0 ? 'Give a label' : v.length > 64 ? 'At most 64 characters' : undefined),
  });
  if (chosen === undefined) return undefined;
  const env = controller.environment(chosen.trim());
  if (!env) return undefined;
  const terminal = vscode.window.createTerminal({ name: `LLM Capture: ${chosen.trim()}`, env, iconPath: new vscode.ThemeIcon('record') });
  terminal.show();
  return terminal;
}

/** Terminals that can be re-created from their options (not extension-owned pseudoterminals). */
function relaunchable(t: vscode.Terminal): t is vscode.Terminal & { creationOptions: vscode.TerminalOptions } {
  return !('pty' in t.creationOptions) && t.exitStatus === undefined;
}

/** Disposes each open terminal and opens a new one with the same name, shell and directory. */
export function relaunchTerminals(log: Logger): number {
  let count = 0;
  for (const t of [...vscode.window.terminals]) {
    if (!relaunchable(t)) continue;
    const cwd = t.shellIntegration?.cwd ?? t.creationOptions.cwd;
    const options: vscode.TerminalOptions = { ...t.creationOptions, name: t.name, ...(cwd ? { cwd } : {}) };
    t.dispose();
    vscode.window.createTerminal(options);
    count++;
  }
  log.info(`relaunched ${count} terminal(s)`);
  return count;
}

/** After start: says that open terminals need a relaunch (offering it) and warns about a stale Codex daemon. */
export async function afterStart(controller: CaptureController, log: Logger): Promise<void> {
  const open = vscode.window.terminals.filter(relaunchable).length;
  if (open > 0) {
    void vscode.window.showInformationMessage(
      `${open} terminal(s) were open before capture started and are not proxied until relaunched.`,
      'Relaunch Terminals',
    ).then((choice) => {
      if (choice === 'Relaunch Terminals') relaunchTerminals(log);
    });
  }
  const proxyUrl = controller.capture?.url;
  const startedAt = controller.startedAt;
  if (!proxyUrl || startedAt === undefined) return;
  const stale = (await findCodexDaemons()).filter((d) => bypassesProxy(d, proxyUrl, startedAt));
  if (stale.length === 0) return;
  log.warn(`Codex app-server daemon(s) not using the proxy: pid ${stale.map((d) => d.pid).join(', ')}`);
  const choice = await vscode.window.showWarningMessage(
    'A Codex app-server daemon started before capture is running. Interactive codex sends its model traffic through it, bypassing LLM Capture. Restart it from a proxied terminal.',
    'Restart Codex Daemon',
  );
  if (choice === 'Restart Codex Daemon') {
    const terminal = await newCapturedTerminal(controller, 'codex-daemon-restart');
    terminal?.sendText('codex app-server daemon restart');
  }
}
