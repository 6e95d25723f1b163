// Two VS Code windows, one capture (docs/decisions.md, decision 42), in a real code-server driven
// through chromium: window A starts capture; window B, where nobody pressed Start, attaches by
// itself (its status bar shows A's port with a link) and a terminal in it runs the real `claude`
// through the capture; both windows list the session; closing A lets B take over on the same
// port, and the terminal B opened before the takeover still captures after it.
// Screenshots go to .ci-out/vscode/ (two-windows-*).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentGate } from '../agents/harness';
import { startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { createTestPki, type TestPki } from '../support/test-pki';
import { startCodeServer, type RunningServer } from './code-server';
import { OUT_DIR, vscodeGate } from './harness';
import { launchBrowser, Workbench, type Browser } from './workbench';

const ANTHROPIC = 'api.anthropic.com';
const AGENT_WAIT_MS = 120_000;

const vscode = vscodeGate();
const claude = agentGate('claude');

describe('two windows share one capture', { skip: vscode.skip || claude.skip, timeout: 10 * 60_000 }, () => {
  let pki: TestPki | undefined;
  let fake: FakeApiServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let a: Workbench;
  let b: Workbench;
  let proxyUrl = '';
  let port = '';

  before(async () => {
    vscode.check();
    const claudeBinary = claude.binary();
    pki = createTestPki();
    fake = await startFakeAnthropic(pki.serverCert([ANTHROPIC]));
    const bin = join(pki.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(claudeBinary, join(bin, 'claude'));
    server = await startCodeServer({
      settings: {
        'llmCapture.mapHosts': { [`${ANTHROPIC}:443`]: `127.0.0.1:${fake.port}` },
        'llmCapture.upstreamCaFiles': [pki.caCertPath],
      },
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-api03-llm-capture-fake-key-0123456789',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        // A closed window's extension host ends a few seconds after, not after the default 3 hours.
        CODE_SERVER_RECONNECTION_GRACE_TIME: '3',
      },
    });
    writeFileSync(join(server.sandbox.home, '.bashrc'), `export PATH='${bin}:${dirname(process.execPath)}':"$PATH"\n`);
    writeFileSync(join(server.sandbox.home, '.profile'), '. "$HOME/.bashrc"\n');
    mkdirSync(join(server.sandbox.workspace, 'b'), { recursive: true });
    browser = await launchBrowser();
    a = new Workbench(browser.page, 'two-windows-a');
    b = new Workbench(await browser.newPage(), 'two-windows-b');
  });

  after(async () => {
    await browser?.close();
    if (server) {
      mkdirSync(OUT_DIR, { recursive: true });
      if (existsSync(server.logFile)) copyFileSync(server.logFile, join(OUT_DIR, 'two-windows-code-server.log'));
      await server.stop();
    }
    await fake?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const status = (wb: Workbench) => wb.page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: `LLM :${port}` }).first();

  test('window A starts capture; window B attaches without a Start and its terminal is proxied', async () => {
    const s = server as RunningServer;
    await a.open(`${s.url}/?folder=${encodeURIComponent(s.sandbox.workspace)}`);
    await a.runCommand('LLM Capture: Start Capture');
    const started = await a.waitForToast(/LLM Capture is listening on/);
    proxyUrl = started.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1] ?? '';
    port = new URL(proxyUrl).port;
    await status(a).waitFor({ state: 'visible' });

    await b.open(`${s.url}/?folder=${encodeURIComponent(join(s.sandbox.workspace, 'b'))}`);
    await status(b).waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await status(b).innerHTML(), /codicon-link/, 'window B shows a link: the capture is another window\'s');
    await b.screenshot('01-attached');

    await b.openTerminal();
    await b.typeInTerminal('echo "P=$HTTPS_PROXY"');
    const seen = await b.waitForTerminal(/^P=(http:\/\/\S+)\s*$/m);
    assert.equal(seen[1], proxyUrl, 'the terminal in B has the proxy window A serves');
  });

  test('the real claude in B\'s terminal is captured, and both windows list the session', async () => {
    await runClaude('please answer from window b', 'claude-b1');
    for (const wb of [a, b]) {
      await wb.showCaptureSidebar();
      await wb.treeRow('please answer from window b').waitFor({ state: 'visible', timeout: 60_000 });
      await wb.screenshot('02-session-listed');
    }
  });

  test('closing window A: B takes over on the same port, and its terminal opened before still captures', async () => {
    await a.page.close();
    // B serves now: the link gives way to the recording dot, on the same port.
    await b.waitUntil(async () => /codicon-record|codicon-pulse/.test(await status(b).innerHTML().catch(() => '')), 90_000, 'window B to take over');
    await b.screenshot('03-took-over');
    await runClaude('please answer after the takeover', 'claude-b2');
    await b.showCaptureSidebar();
    await b.treeRow('please answer after the takeover').waitFor({ state: 'visible', timeout: 60_000 });
    await b.screenshot('04-captured-after-takeover');
  });

  async function runClaude(prompt: string, name: string): Promise<void> {
    const out = join((server as RunningServer).sandbox.workspace, 'b', `${name}.out`);
    const before = fake?.requests.length ?? 0;
    await b.typeInTerminal(`clear; (claude -p '${prompt}'; echo "EXIT=$?") < /dev/null > ${name}.out 2>&1; echo "ran ${name}"`);
    let text = '';
    await b.waitUntil(async () => /^EXIT=\d+$/m.test(text = existsSync(out) ? readFileSync(out, 'utf8') : ''), AGENT_WAIT_MS, `${name} to end`);
    assert.match(text, /^EXIT=0$/m, `${name} exited 0:\n${text.slice(-3000)}`);
    assert.ok((fake?.requests.length ?? 0) > before, 'the request reached the fake model through the proxy');
  }
});
