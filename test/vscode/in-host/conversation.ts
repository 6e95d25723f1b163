// Runs inside VS Code's extension host: Open Session shows the conversation webview, one panel
// per session (opening it again reveals the same panel).
import assert from 'node:assert/strict';
// eslint-disable-next-line no-restricted-imports
import * as vscode from 'vscode';

function conversationTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('llmCapture.conversation'));
}

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function conversationTests(): Array<[string, () => Promise<void>]> {
  return [
    ['Open Session opens one conversation webview per session', async () => {
      await vscode.commands.executeCommand('llmCapture.openSession', 'in-host-session');
      await waitFor('the conversation panel', () => conversationTabs().length === 1);
      await vscode.commands.executeCommand('llmCapture.openSession', 'in-host-session');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(conversationTabs().length, 1, 'the open panel is reused');
      await vscode.window.tabGroups.close(conversationTabs());
      assert.equal(conversationTabs().length, 0);
    }],
  ];
}
