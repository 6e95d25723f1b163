// Runs inside VS Code's extension host, next to the extension: start, stop and start again
// through the extension's commands, and check what they do to terminals and to the proxy.
// What a terminal gets is read from a real terminal process (VS Code applies every extension's
// environment variable collection to the terminals it creates), not from the extension's internals.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line no-restricted-imports
import * as vscode from 'vscode';

const EXTENSION_ID = 'llm-capture.llm-capture';

let counter = 0;

/** Starts a terminal whose shell writes its environment to a file, and returns that environment. */
async function terminalEnvironment(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-in-host-'));
  const out = join(dir, 'env.txt');
  const terminal = vscode.window.createTerminal({
    name: `env probe ${++counter}`,
    shellPath: '/bin/sh',
    shellArgs: ['-c', `env > "${out}.part" && mv "${out}.part" "${out}"; sleep 60`],
  });
  terminal.show();
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(out)) {
      if (Date.now() > deadline) throw new Error('the probe terminal never wrote its environment');
      await new Promise((r) => setTimeout(r, 100));
    }
    const env: Record<string, string> = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return env;
  } finally {
    terminal.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The proxy answers on `${url}/ca.pem` with its CA certificate. */
async function fetchCa(url: string): Promise<string> {
  const res = await fetch(`${url}/ca.pem`);
  return res.text();
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/ca.pem`);
    return false;
  } catch {
    return true;
  }
}

export function captureTests(): Array<[string, () => Promise<void>]> {
  let firstUrl = '';
  return [
    [
      'the extension is installed from the development path',
      async () => {
        const ext = vscode.extensions.getExtension(EXTENSION_ID);
        assert.ok(ext, `${EXTENSION_ID} is present`);
        // in-host.test.ts passes the copied extension's path through the server's environment.
        assert.equal(ext.extensionPath, process.env.LLM_CAPTURE_DEV_PATH);
      },
    ],
    [
      'before Start, a new terminal has no proxy',
      async () => {
        const env = await terminalEnvironment();
        assert.equal(env.HTTPS_PROXY, undefined);
      },
    ],
    [
      'Start: a new terminal gets HTTPS_PROXY and the CA, and the proxy answers',
      async () => {
        await vscode.commands.executeCommand('llmCapture.start');
        assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, 'the command activated the extension');
        const env = await terminalEnvironment();
        assert.match(env.HTTPS_PROXY ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(env.HTTP_PROXY, env.HTTPS_PROXY);
        assert.match(env.NODE_EXTRA_CA_CERTS ?? '', /ca\.pem$/);
        const ca = readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8');
        assert.match(ca, /-----BEGIN CERTIFICATE-----/);
        assert.equal((await fetchCa(env.HTTPS_PROXY)).trim(), ca.trim(), 'the proxy serves the same CA the terminal trusts');
        firstUrl = env.HTTPS_PROXY;
      },
    ],
    [
      'Stop: a new terminal has no proxy, and the proxy is closed',
      async () => {
        await vscode.commands.executeCommand('llmCapture.stop');
        const env = await terminalEnvironment();
        assert.equal(env.HTTPS_PROXY, undefined);
        assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
        assert.ok(await refused(firstUrl), `${firstUrl} refuses connections after Stop`);
      },
    ],
    [
      'Start again: the proxy is back and new terminals get it',
      async () => {
        await vscode.commands.executeCommand('llmCapture.start');
        const env = await terminalEnvironment();
        assert.match(env.HTTPS_PROXY ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(await fetchCa(env.HTTPS_PROXY), /-----BEGIN CERTIFICATE-----/);
        await vscode.commands.executeCommand('llmCapture.stop');
        assert.ok(await refused(env.HTTPS_PROXY), 'the second proxy closes on Stop too');
      },
    ],
  ];
}
