// Runs the mocha suite in test/vscode/in-host inside a real VS Code extension host (the plain
// VS Code server that code-server 4.139.1 bundles, VS Code 1.139.1 on Node 24), the way
// @vscode/test-electron would on a desktop: the workbench opens in chromium with a development
// payload (extensionDevelopmentPath = the built extension, extensionTestsPath = the bundled
// suite), runs the suite next to the extension and reports through codeAutomationExit.
// Skips unless test/vscode/install.sh and `npm run build` ran (LLM_CAPTURE_REQUIRE_VSCODE=1
// makes that a failure).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import type { ChildProcess } from 'node:child_process';
import { copyBuiltExtension, freePort, killGroup, makeSandbox, spawnGroup, waitForHttp200, type Sandbox } from './code-server';
import { CODE_SERVER_DIR, MODULES, OUT_DIR, vscodeGate } from './harness';
import { launchBrowser, Workbench, type Browser } from './workbench';

const gate = vscodeGate();

describe('LLM Capture inside a real VS Code extension host (mocha)', { skip: gate.skip, timeout: 10 * 60_000 }, () => {
  let sandbox: Sandbox | undefined;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let logFile = '';
  const consoleLines: string[] = [];

  before(() => gate.check());

  after(async () => {
    await browser?.close();
    if (server) await killGroup(server);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, 'in-host-console.log'), consoleLines.join('\n'));
    if (logFile && existsSync(logFile)) copyFileSync(logFile, join(OUT_DIR, 'in-host-server.log'));
    if (sandbox) rmSync(sandbox.root, { recursive: true, force: true, maxRetries: 5 });
  });

  test('start, stop, start again: terminals and the proxy follow', async (t) => {
    const box = (sandbox = makeSandbox('in-host'));
    const devPath = copyBuiltExtension(join(box.root, 'dev'));
    const suite = join(box.root, 'in-host', 'index.js');
    const mocha = join(MODULES, 'mocha');
    await build({
      entryPoints: [join(__dirname, 'in-host', 'index.ts')],
      outfile: suite,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      logLevel: 'warning',
      external: ['vscode'],
      plugins: [{ name: 'mocha-from-test-vscode', setup: (b) => b.onResolve({ filter: /^mocha$/ }, () => ({ path: mocha, external: true })) }],
    });

    const port = await freePort();
    logFile = join(box.root, 'server.log');
    server = spawnGroup(
      [
        join(CODE_SERVER_DIR, 'lib', 'vscode', 'out', 'server-main.js'),
        '--host', '127.0.0.1',
        '--port', String(port),
        '--enable-smoke-test-driver',
        '--without-connection-token',
        '--accept-server-license-terms',
        '--disable-telemetry',
        '--telemetry-level', 'off',
        '--server-data-dir', join(box.root, 'server-data'),
        '--user-data-dir', box.userDataDir,
        '--extensions-dir', box.extensionsDir,
      ],
      { ...box.env, LLM_CAPTURE_DEV_PATH: devPath },
      logFile,
      box.root,
    );
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp200(url, server, logFile);

    browser = await launchBrowser();
    const page = browser.page;
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    let exitCode: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exitCode = resolve));
    await page.exposeFunction('codeAutomationExit', ((code: number) => exitCode(code)) as (...args: never[]) => unknown);

    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(devPath)],
      ['extensionTestsPath', remote(suite)],
    ]);
    await page.goto(`${url}/?folder=${encodeURIComponent(box.workspace)}&payload=${encodeURIComponent(payload)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    const wb = new Workbench(page, 'in-host');

    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5 * 60_000).unref());
    const code = await Promise.race([exited, timeout]);
    await wb.screenshot('done').catch(() => undefined);
    const results = consoleLines.filter((l) => /IN-HOST (PASS|FAIL)/.test(l)).map((l) => l.slice(l.indexOf('IN-HOST')));
    for (const line of results) t.diagnostic(line.split('\n')[0]);
    const report = `in-host results:\n${results.join('\n') || '(none)'}\n--- console (last 60 lines) ---\n${consoleLines.slice(-60).join('\n')}`;
    assert.notEqual(code, 'timeout', `the in-host suite never reported its end\n${report}`);
    assert.equal(code, 0, `the in-host suite failed\n${report}`);
    assert.ok(results.filter((l) => l.includes('IN-HOST PASS')).length >= 5, `every in-host test passed\n${report}`);
  });
});
