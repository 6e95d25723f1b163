// Runs inside VS Code's extension host: every command in the manifest is registered, and the
// Sessions tree provider shows a session captured through the running proxy. The proxy maps
// api.anthropic.com to a fake started here (llmCapture.mapHosts), and curl sends the request,
// as an agent in a terminal would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
// eslint-disable-next-line no-restricted-imports
import * as vscode from 'vscode';
import type { LlmCaptureApi } from '../../../src/extension/extension';
import { startFakeAnthropic } from '../../support/fake-anthropic';
import { createTestPki } from '../../support/test-pki';

const EXTENSION_ID = 'llm-capture.llm-capture';
const PROMPT = 'hello from the in-host tree test';

async function waitFor<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const label = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : item.label?.label ?? '');

export function treeTests(): Array<[string, () => Promise<void>]> {
  return [
    ['every command of the manifest is registered', async () => {
      const ext = vscode.extensions.getExtension<LlmCaptureApi>(EXTENSION_ID);
      await ext?.activate();
      const declared = (ext?.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.ok(declared.length >= 15, `the manifest declares the commands (${declared.length})`);
      assert.deepEqual(declared.filter((c) => !registered.has(c)), [], 'no declared command is missing');
    }],
    ['the Sessions tree shows a session captured through the proxy', async () => {
      const api = (await vscode.extensions.getExtension<LlmCaptureApi>(EXTENSION_ID)?.activate()) as LlmCaptureApi;
      const pki = createTestPki();
      const fake = await startFakeAnthropic(pki.serverCert(['api.anthropic.com']));
      const config = vscode.workspace.getConfiguration('llmCapture');
      try {
        await config.update('mapHosts', { 'api.anthropic.com:443': `127.0.0.1:${fake.port}` }, vscode.ConfigurationTarget.Global);
        await config.update('upstreamCaFiles', [pki.caCertPath], vscode.ConfigurationTarget.Global);
        await vscode.commands.executeCommand('llmCapture.start');
        const env = api.environment();
        assert.ok(env, 'capture runs');
        const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: PROMPT }] });
        const { stdout } = await promisify(execFile)('curl', [
          '-sS', '--proxy', env.HTTPS_PROXY!, '--cacert', env.NODE_EXTRA_CA_CERTS!, 'https://api.anthropic.com/v1/messages',
          '-H', 'content-type: application/json', '-H', 'x-api-key: sk-ant-api03-in-host-fake-key', '-H', 'anthropic-version: 2023-06-01', '-d', body,
        ]);
        assert.match(stdout, /event: message_stop/, 'the fake answered through the proxy');

        const tree = api.sessions;
        const session = await waitFor('the session in the tree', async () => {
          for (const id of (await tree.getChildren()) ?? []) {
            const item = await tree.getTreeItem(id);
            if (label(item).includes(PROMPT)) return { id, item };
          }
          return undefined;
        });
        assert.match(String(session.item.description), /claude-sonnet-4-5/, 'the session row names the model');
        assert.equal(session.item.command?.command, 'llmCapture.openSession', 'a click opens the conversation');
        assert.equal(session.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
        // The tooltip is resolved on hover, not sent with every refresh of the rows.
        assert.equal(session.item.tooltip, undefined, 'the row is sent without its tooltip');
        const resolved = await tree.resolveTreeItem?.(session.item, session.id, new vscode.CancellationTokenSource().token);
        assert.match(String(resolved?.tooltip), / session \S+.*\nModel: claude-sonnet-4-5/s, 'hovering the row shows the session, its model and figures');
        // Session → (thread →) turn: the turn row is the prompt.
        const children = (await tree.getChildren(session.id)) ?? [];
        const items = await Promise.all(children.map(async (c) => ({ id: c, item: await tree.getTreeItem(c) })));
        const nested = await Promise.all(items.map(async (c) => (await tree.getChildren(c.id)) ?? []));
        const rows = [...items.map((c) => label(c.item)), ...(await Promise.all(nested.flat().map(async (c) => label(await tree.getTreeItem(c)))))];
        assert.ok(rows.some((r) => r.includes(PROMPT)), `a turn row shows the prompt: ${JSON.stringify(rows)}`);
        // The list asked for again (sessions reorder whenever a call ends): an expanded session keeps its rows.
        await tree.getChildren();
        assert.deepEqual((await tree.getChildren(session.id)) ?? [], children, 'the session keeps its children after the list is asked for again');
      } finally {
        await vscode.commands.executeCommand('llmCapture.stop');
        await config.update('mapHosts', undefined, vscode.ConfigurationTarget.Global);
        await config.update('upstreamCaFiles', undefined, vscode.ConfigurationTarget.Global);
        await fake.close();
        rmSync(pki.dir, { recursive: true, force: true });
      }
    }],
  ];
}
