// The extension in a real VS Code (code-server 4.139.1 = VS Code 1.139.1), driven through its UI
// in chromium as a user would: the command palette starts capture, a toast says where the proxy
// listens, a new terminal has the proxy's variables (and reaches the proxy), Stop Capture clears
// them for the next terminal and closes the proxy. Screenshots of each step go to .ci-out/vscode/.
// Skips unless test/vscode/install.sh and `npm run build` ran (LLM_CAPTURE_REQUIRE_VSCODE=1
// makes that a failure).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCodeServer, type RunningServer } from './code-server';
import { OUT_DIR, vscodeGate } from './harness';
import { launchBrowser, Workbench, type Browser } from './workbench';

const gate = vscodeGate();

describe('LLM Capture in a real VS Code, through its UI', { skip: gate.skip, timeout: 10 * 60_000 }, () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;

  before(async () => {
    gate.check();
    server = await startCodeServer();
    browser = await launchBrowser();
    wb = new Workbench(browser.page, 'ui');
  });

  after(async () => {
    await browser?.close();
    if (server) {
      mkdirSync(OUT_DIR, { recursive: true });
      if (existsSync(server.logFile)) copyFileSync(server.logFile, join(OUT_DIR, 'ui-code-server.log'));
      await server.stop();
    }
  });

  test('Start Capture proxies new terminals; Stop Capture un-proxies them', async () => {
    const s = server as RunningServer;
    await wb.open(`${s.url}/?folder=${encodeURIComponent(s.sandbox.workspace)}`);
    await wb.screenshot('01-workbench');

    // Start from the command palette: a toast names the proxy's address.
    await wb.runCommand('LLM Capture: Start Capture');
    const started = await wb.waitForToast(/LLM Capture is listening on/);
    const proxyUrl = started.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    assert.ok(proxyUrl, `the start toast names the proxy URL: ${JSON.stringify(started)}`);
    await wb.screenshot('02-started-toast');

    // A terminal opened after Start has the proxy and its CA in its environment.
    await wb.openTerminal();
    // (One value a line: xterm wraps long lines into separate rows.)
    await wb.typeInTerminal('echo "P=$HTTPS_PROXY"; echo "C=$NODE_EXTRA_CA_CERTS"');
    const seen = await wb.waitForTerminal(/^P=(http:\/\/\S+)\s*\nC=(\/\S+\.pem)\s*$/m);
    assert.equal(seen[1], proxyUrl, 'HTTPS_PROXY in the terminal is the URL the toast named');
    const caPath = seen[2];
    assert.match(caPath, /ca\.pem$/, 'NODE_EXTRA_CA_CERTS points at the CA certificate');
    assert.match(readFileSync(caPath, 'utf8'), /-----BEGIN CERTIFICATE-----/, 'the CA file holds a certificate');

    // ... and the proxy answers from there: it serves its CA at /ca.pem.
    await wb.typeInTerminal('curl -sS "$HTTPS_PROXY/ca.pem" | head -1 | sed "s/^/FETCHED:/"');
    await wb.waitForTerminal(/FETCHED:-----BEGIN CERTIFICATE-----/);
    await wb.screenshot('03-terminal-proxied');

    // Stop from the palette.
    await wb.runCommand('LLM Capture: Stop Capture');
    await wb.waitForToast(/LLM Capture stopped/);
    await wb.screenshot('04-stopped-toast');

    // A terminal opened after Stop has no proxy variables, and the proxy is closed.
    await wb.openTerminal();
    await wb.typeInTerminal('echo "P=[$HTTPS_PROXY] C=[$NODE_EXTRA_CA_CERTS]"');
    const cleared = await wb.waitForTerminal(/P=\[([^\]$]*)\] C=\[([^\]$]*)\]/);
    assert.equal(cleared[1], '', 'HTTPS_PROXY is empty in a terminal opened after Stop');
    assert.equal(cleared[2], '', 'NODE_EXTRA_CA_CERTS is empty in a terminal opened after Stop');
    await wb.typeInTerminal(`curl -sS -o /dev/null -w "CODE=%{http_code}\\n" ${proxyUrl}/ca.pem 2>/dev/null; true`);
    const refused = await wb.waitForTerminal(/CODE=(\d+)/);
    assert.equal(refused[1], '000', 'the proxy no longer accepts connections after Stop');
    await wb.screenshot('05-new-terminal-unproxied');
  });
});
