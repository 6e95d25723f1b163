// The extension in a real VS Code (code-server 4.139.1 = VS Code 1.139.1), driven through its UI
// in chromium as a user would: Start Capture from the palette; a new terminal has the proxy's
// variables; the real `claude -p` and `codex exec` run a tool turn in it against the test's fake
// upstreams (mapped by the llmCapture.mapHosts setting); their sessions appear in the sidebar and
// open in the conversation webview with the prompt, the tool call, its result and the answer; a
// malicious answer shows as text and runs nothing; Stop Capture un-proxies the next terminal;
// Open a Demo Session shows the scripted demo in the tree and the conversation, and Close Demo
// brings back the captures.
// Screenshots of each step go to .ci-out/vscode/. Skips unless test/vscode/install.sh, the agents
// (test/agents) and `npm run build` are there (LLM_CAPTURE_REQUIRE_VSCODE=1 makes that a failure).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentGate } from '../agents/harness';
import { BASH_COMMAND, CODEX_PROMPT, PROMPT_SUBAGENT, PROMPT_TODOS, SUBAGENT_PROMPT } from '../../src/demo';
import { startFakeAnthropic, TOOL_MARKER, type FakeApiServer } from '../support/fake-anthropic';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { createTestPki, type TestPki } from '../support/test-pki';
import { startCodeServer, type RunningServer } from './code-server';
import { OUT_DIR, vscodeGate } from './harness';
import { launchBrowser, Workbench, type Browser } from './workbench';

const ANTHROPIC = 'api.anthropic.com';
const OPENAI = 'api.openai.com';
// Codex asks chatgpt.com for its model list; the fake's 404 ends that at once.
const CHATGPT = 'chatgpt.com';
const AGENT_WAIT_MS = 120_000;

const vscode = vscodeGate();
const claude = agentGate('claude');
const codex = agentGate('codex');
const skip = vscode.skip || claude.skip || codex.skip;

describe('LLM Capture in a real VS Code, through its UI', { skip, timeout: 15 * 60_000 }, () => {
  let pki: TestPki | undefined;
  let fakeAnthropic: FakeApiServer | undefined;
  let fakeOpenAi: FakeOpenAi | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let proxyUrl = '';

  before(async () => {
    vscode.check();
    const claudeBinary = claude.binary();
    const codexBinary = codex.binary();
    pki = createTestPki();
    fakeAnthropic = await startFakeAnthropic(pki.serverCert([ANTHROPIC]), { promptCache: true });
    fakeOpenAi = await startFakeOpenAi(pki.serverCert([OPENAI, CHATGPT]));
    // `claude` and `codex` on the terminals' PATH, as a user's global install would put them.
    const bin = join(pki.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(claudeBinary, join(bin, 'claude'));
    symlinkSync(codexBinary, join(bin, 'codex'));
    server = await startCodeServer({
      settings: {
        'llmCapture.mapHosts': {
          [`${ANTHROPIC}:443`]: `127.0.0.1:${fakeAnthropic.port}`,
          [`${OPENAI}:443`]: `127.0.0.1:${fakeOpenAi.port}`,
          [`${CHATGPT}:443`]: `127.0.0.1:${fakeOpenAi.port}`,
        },
        'llmCapture.upstreamCaFiles': [pki.caCertPath],
      },
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-api03-llm-capture-fake-key-0123456789',
        CODEX_API_KEY: 'sk-llm-capture-fake-codex-key',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
    });
    // The user's shell start-up puts them on PATH (Debian's /etc/profile resets the inherited one).
    // The Codex wrapper is a node script, so node goes there too.
    const path = `export PATH='${bin}:${dirname(process.execPath)}':"$PATH"\n`;
    writeFileSync(join(server.sandbox.home, '.bashrc'), path);
    writeFileSync(join(server.sandbox.home, '.profile'), '. "$HOME/.bashrc"\n');
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
    await fakeAnthropic?.close();
    await fakeOpenAi?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  test('Start Capture: the status bar changes and a new terminal is proxied', async () => {
    const s = server as RunningServer;
    await wb.open(`${s.url}/?folder=${encodeURIComponent(s.sandbox.workspace)}`);
    await wb.showCaptureSidebar();
    await wb.page.locator('.sidebar .welcome-view-content', { hasText: /Start Capture/ }).first().waitFor({ state: 'visible' });
    assert.match(await wb.page.locator('.sidebar .welcome-view-content').first().innerText(), /Open a Demo Session/, 'the welcome offers the demo');
    await wb.screenshot('01-workbench-welcome');

    await wb.runCommand('LLM Capture: Start Capture');
    const started = await wb.waitForToast(/LLM Capture is listening on/);
    proxyUrl = started.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1] ?? '';
    assert.ok(proxyUrl, `the start toast names the proxy URL: ${JSON.stringify(started)}`);
    const port = new URL(proxyUrl).port;
    const status = wb.page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: `LLM :${port}` }).first();
    await status.waitFor({ state: 'visible' });
    assert.match(await status.innerText(), new RegExp(`LLM :${port} · 0`), 'the status bar shows the port and no calls yet');
    await wb.screenshot('02-started');

    await wb.openTerminal();
    // (One value a line: xterm wraps long lines into separate rows.)
    await wb.typeInTerminal('echo "P=$HTTPS_PROXY"; echo "C=$NODE_EXTRA_CA_CERTS"');
    const seen = await wb.waitForTerminal(/^P=(http:\/\/\S+)\s*\nC=(\/\S+\.pem)\s*$/m);
    assert.equal(seen[1], proxyUrl, 'HTTPS_PROXY in the terminal is the URL the toast named');
    assert.match(seen[2], /ca\.pem$/, 'NODE_EXTRA_CA_CERTS points at the CA certificate');
    assert.match(readFileSync(seen[2], 'utf8'), /-----BEGIN CERTIFICATE-----/);
    await wb.screenshot('03-terminal-proxied');
  });

  test('the real claude -p runs a tool turn; the session opens with prompt, tool call, result and answer', async () => {
    const prompt = 'please TOOL run echo from claude';
    const text = await runInTerminal('claude', `claude -p '${prompt}' --allowedTools Bash`);
    assert.match(text, /FAKE-FINAL: the tool returned: fake-tool-ok/);

    await openSession(prompt);
    await wb.screenshot('04-claude-conversation');
    const view = wb.webview();
    const turn = view.locator('.turn').first();
    assert.match(await turn.locator('.block.user pre').first().innerText(), new RegExp(prompt));
    const tool = turn.locator('.block.tool vscode-collapsible').first();
    assert.equal(await tool.getAttribute('heading'), 'Bash');
    assert.match(String(await tool.getAttribute('description')), /echo fake-tool-ok/, 'the one-line summary names the command');
    await tool.click();
    const args = turn.locator('.block.tool pre.json').first();
    await args.waitFor({ state: 'visible' });
    assert.match(await args.innerText(), /"command": "echo fake-tool-ok"/, 'the full arguments as pretty JSON');
    assert.equal((await turn.locator('.block.tool pre.output').first().innerText()).trim(), TOOL_MARKER, 'the real echo output');
    assert.match(await turn.locator('.block.assistant .markdown').last().innerText(), /FAKE-FINAL: the tool returned: fake-tool-ok/);
    await wb.screenshot('05-claude-tool-call-open');

    // The turn's model calls (decision 68): the second re-sent the first's prompt and answer, added the
    // tool result, and read from the (simulated) prompt cache all that the first wrote there.
    const calls = turn.locator('.block.calls vscode-collapsible').first();
    assert.equal(await calls.getAttribute('heading'), 'Model calls (2)');
    await calls.click();
    const second = turn.locator('.call').nth(1);
    await second.waitFor({ state: 'visible' });
    assert.match(await second.innerText(), /\+1 message/);
    assert.match(await second.innerText(), /read ([\d,]+) of \1 from the cache/);
    assert.match(await second.locator('ul.added').innerText(), /tool\s+\(result\) fake-tool-ok/);
    await wb.screenshot('05b-claude-model-calls');
    // The context chart (decision 69): a bar per model call; clicking one opens its turn.
    const chart = view.locator('.context-chart svg');
    await chart.waitFor({ state: 'visible' });
    assert.match(await view.locator('.chart-caption').innerText(), /Context per call · 2 calls · peak [\d.]+k in/);
    // Its middle is where the second call's bar begins.
    await chart.click();
    assert.match(await view.locator('.chart-readout').innerText(), /^Call \S+ · turn 1 · [\d.]+k cached/);
    await view.locator('.turn.focused').first().waitFor({ state: 'visible' });
    await wb.screenshot('05c-claude-context-chart');

    // The Tools tab has the definitions Claude Code offered; the Raw calls tab the exchange itself.
    await view.locator('vscode-tab-header', { hasText: 'Tools' }).click();
    await view.locator('.tools .block.tool-def vscode-collapsible[heading="Bash"]').first().waitFor({ state: 'visible' });
    await wb.screenshot('06-claude-tools-tab');
    await view.locator('vscode-tab-header', { hasText: 'Raw calls' }).click();
    await view.locator('.raw-calls vscode-collapsible').first().click();
    const requestLine = view.locator('.raw-request-line').first();
    await requestLine.waitFor({ state: 'visible' });
    assert.match(await requestLine.innerText(), /^POST https:\/\/api\.anthropic\.com\/v1\/messages/);
    await view.locator('.raw-call vscode-collapsible[heading^="Request headers"]').first().click();
    const headers = await view.locator('table.raw-headers').first().innerText();
    assert.match(headers, /x-api-key\s+\[REDACTED:[0-9a-f]{8}\]/i, 'the key is shown redacted');
    assert.ok(!headers.includes('llm-capture-fake-key'), 'the key itself is not shown');
    await view.locator('.raw-call vscode-collapsible[heading^="SSE events"]').first().click();
    await view.locator('.raw-item', { hasText: 'message_start' }).first().waitFor({ state: 'visible' });
    await wb.screenshot('07-claude-raw-call');
  });

  test('claude resumed while its conversation is open: the new turn arrives as a patch, marked as a cache break, and the diff shows the line', async () => {
    // The conversation the test before opened is still on screen; the resumed call reaches that page as
    // what changed, not as the whole session again (docs/decisions.md, decision 76).
    const view = wb.webview();
    // The test before left the Raw calls tab shown.
    await view.locator('vscode-tab-header', { hasText: 'Conversation' }).click();
    await view.locator('.turn', { hasText: 'please TOOL run echo from claude' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const patchesBefore = await patchesApplied();
    const text = await runInTerminal('claude-resumed', "claude -c -p 'say hi again' --append-system-prompt 'Always answer in French.'");
    assert.match(text, /FAKE-TEXT-OK/);
    const turn = view.locator('.turn', { hasText: 'say hi again' }).first();
    await turn.waitFor({ state: 'visible', timeout: 30_000 });
    assert.ok(await patchesApplied() > patchesBefore, 'the open page applied the new turn as a patch');
    await wb.screenshot('05c1-claude-resumed-live');
    await turn.locator('.cache-break-badge').first().waitFor({ state: 'visible' });
    const calls = turn.locator('.block.calls vscode-collapsible').first();
    assert.match(String(await calls.getAttribute('description')), /^cache break: .*system prompt changed/);
    await calls.click();
    assert.match(await turn.locator('.cache-break-text').first().innerText(), /Read 0 of the [\d,]+ tokens the previous call left in the cache\..*The system prompt changed/);
    await turn.locator('.call vscode-collapsible[heading="System prompt changed"]').first().click();
    assert.match(await turn.locator('pre.diff .diff-add').allInnerTexts().then((l) => l.join('\n')), /\+Always answer in French\./);
    await wb.screenshot('05c2-claude-resumed-cache-break-diff');
  });

  test('Search Sessions finds the tool result and opens its turn with the match highlighted', async () => {
    const input = await wb.openCommand('LLM Capture: Search Sessions…');
    await input.press('Enter');
    const box = wb.page.locator('.quick-input-widget .quick-input-box input');
    await wb.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Search Sessions' }).first().waitFor({ state: 'visible' });
    await box.fill('fake-tool-ok client:claude-code');
    const row = wb.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: /fake-tool-ok/ }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await wb.page.locator('.quick-input-widget .quick-input-title').first().innerText(), /Search Sessions: \d+ turn\(s\) in 1 session\(s\)/);
    await wb.screenshot('05d-search-sessions');
    await box.press('Enter');
    const mark = wb.webview().locator('.turn mark:visible').first();
    await mark.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal((await mark.innerText()).toLowerCase(), 'fake-tool-ok');
    await wb.screenshot('05e-search-result-opened');
  });

  test('the real codex exec runs a tool turn over its WebSocket; the session opens with it', async () => {
    const prompt = 'please TOOL run echo from codex';
    const text = await runInTerminal('codex', `codex exec --skip-git-repo-check '${prompt}'`);
    assert.match(text, /FAKE-FINAL: the tool returned:/);

    await openSession(prompt);
    await wb.screenshot('08-codex-conversation');
    const turn = wb.webview().locator('.turn').first();
    assert.match(await turn.locator('.block.user pre').first().innerText(), new RegExp(prompt));
    const tool = turn.locator('.block.tool vscode-collapsible').first();
    assert.match(String(await tool.getAttribute('description')), /echo fake-tool-ok/, 'the code-mode call is summarised by its command');
    await tool.click();
    await turn.locator('.block.tool pre.output').first().waitFor({ state: 'visible' });
    assert.match(await turn.locator('.block.tool pre.output').first().innerText(), new RegExp(TOOL_MARKER));
    assert.match(await turn.locator('.block.assistant .markdown').last().innerText(), /FAKE-FINAL: the tool returned:/);
    await wb.screenshot('09-codex-tool-call-open');
    const view = wb.webview();
    await view.locator('vscode-tab-header', { hasText: 'Raw calls' }).click();
    await view.locator('.raw-calls vscode-collapsible').first().click();
    await view.locator('.raw-request-line').first().waitFor({ state: 'visible' });
    assert.match(await view.locator('.raw-request-line').first().innerText(), /^GET wss:\/\/api\.openai\.com\/v1\/responses/);
    await view.locator('.raw-call vscode-collapsible[heading^="WebSocket messages"]').first().click();
    await view.locator('.raw-item', { hasText: 'response.create' }).first().waitFor({ state: 'visible' });
    await wb.screenshot('10-codex-raw-websocket');
  });

  test('a malicious answer shows as text and runs nothing', async () => {
    const prompt = 'MALICIOUS answer please';
    await runInTerminal('claude-malicious', `claude -p '${prompt}'`);

    await openSession(prompt);
    const view = wb.webview();
    const answer = view.locator('.block.assistant .markdown').last();
    const shown = await answer.innerText();
    for (const literal of ['<img src=x onerror="window.__llmCapturePwned=1">', '<script>window.__llmCapturePwned=2</script>', '<a href="javascript:window.__llmCapturePwned=4">']) {
      assert.ok(shown.includes(literal), `the answer shows ${literal} as text:\n${shown}`);
    }
    assert.equal(await view.locator('#root img').count(), 0, 'no <img> element was made from the answer');
    assert.equal(await view.locator('#root script').count(), 0, 'no <script> element was made from the answer');
    assert.equal(await view.locator('a[href^="javascript:" i]').count(), 0, 'no javascript: link');
    // Clicking where the links are must not run them either.
    await answer.locator('text=click me').first().click().catch(() => undefined);
    await answer.locator('text=raw link').first().click().catch(() => undefined);
    await wb.page.waitForTimeout(500);
    for (const frame of wb.page.frames()) {
      const pwned = await frame.evaluate(() => (globalThis as unknown as { __llmCapturePwned?: number }).__llmCapturePwned).catch(() => undefined);
      assert.equal(pwned, undefined, `nothing ran in ${frame.url()}`);
    }
    await wb.screenshot('11-malicious-answer-inert');
  });

  test('the next session opens in the same conversation panel, unless that panel was kept open', async () => {
    const claude = 'please TOOL run echo from claude';
    const codex = 'please TOOL run echo from codex';
    await openSession(claude);
    const tabs = wb.page.locator('.tabs-container .tab');
    assert.equal(await tabs.count(), 1);
    await wb.treeRow(codex).click();
    await wb.webview().locator('.turn .block.user pre', { hasText: codex }).first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await tabs.count(), 1, 'the codex session is shown in the same panel');
    assert.equal(await wb.webview().locator('.turn .block.user pre', { hasText: claude }).count(), 0, "none of the claude session's turns are left");
    await wb.screenshot('11b-preview-panel-reused');

    await wb.runCommand('LLM Capture: Keep Conversation Open');
    await wb.treeRow(claude).click();
    await wb.waitUntil(async () => (await tabs.count()) === 2, 30_000, 'a second conversation panel');
    await wb.webview().locator('.turn .block.user pre', { hasText: claude }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await wb.screenshot('11c-kept-panel-and-new-one');
    // The kept panel's page was dropped while it was hidden: shown again, its page is built again and gets its session.
    await tabs.filter({ hasText: 'codex' }).first().click();
    await wb.webview().locator('.turn .block.user pre', { hasText: codex }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await wb.screenshot('11d-kept-panel-shown-again');
  });

  test('Stop Capture: a new terminal has no proxy variables and the proxy is closed', async () => {
    await wb.runCommand('LLM Capture: Stop Capture');
    await wb.waitForToast(/LLM Capture stopped/);
    await wb.openTerminal();
    await wb.typeInTerminal('echo "P=[$HTTPS_PROXY] C=[$NODE_EXTRA_CA_CERTS]"');
    const cleared = await wb.waitForTerminal(/P=\[([^\]$]*)\] C=\[([^\]$]*)\]/);
    assert.equal(cleared[1], '', 'HTTPS_PROXY is empty in a terminal opened after Stop');
    assert.equal(cleared[2], '', 'NODE_EXTRA_CA_CERTS is empty in a terminal opened after Stop');
    await wb.typeInTerminal(`curl -sS -o /dev/null -w "CODE=%{http_code}\\n" ${proxyUrl}/ca.pem 2>/dev/null; true`);
    const refused = await wb.waitForTerminal(/CODE=(\d+)/);
    assert.equal(refused[1], '000', 'the proxy no longer accepts connections after Stop');
    await wb.screenshot('12-stopped-new-terminal-unproxied');
  });

  // Last, and it closes the demo at its end: the earlier tests look at the user's captures.
  test('Open a Demo Session: the demo fills the Sessions view and opens its conversation; Close Demo brings the captures back', async () => {
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('View: Hide Panel');
    await wb.clearToasts();
    await wb.runCommand('LLM Capture: Open a Demo Session');
    await wb.showCaptureSidebar();
    const claudeRow = wb.treeRow('Count TODO comments in src');
    await claudeRow.waitFor({ state: 'visible', timeout: 60_000 });
    await wb.treeRow(CODEX_PROMPT).waitFor({ state: 'visible' });
    assert.equal(await wb.treeRow('please TOOL run echo from claude').isVisible(), false, "the user's own sessions are not mixed in");
    const demoMessage = wb.page.locator('.sidebar .message', { hasText: 'Demo sessions: a scripted agent' }).first();
    await demoMessage.waitFor({ state: 'visible' });

    // The main demo session's conversation opens by itself.
    const view = wb.webview();
    const turns = view.locator('.turn');
    await turns.first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await turns.first().locator('.block.user pre').first().innerText(), new RegExp(escape(PROMPT_TODOS)));
    const bash = turns.first().locator('.block.tool vscode-collapsible').first();
    assert.equal(await bash.getAttribute('heading'), 'Bash');
    assert.match(String(await bash.getAttribute('description')), /grep -rn/, 'the call is summarised by its command');
    await bash.click();
    const args = turns.first().locator('.block.tool pre.json').first();
    await args.waitFor({ state: 'visible' });
    assert.ok((await args.innerText()).includes(JSON.stringify(BASH_COMMAND).slice(1, -1)), 'the arguments as JSON');
    assert.match(await turns.first().locator('.block.tool pre.output').first().innerText(), /src\/server\.ts:14:/, 'the command output');
    const agentCall = turns.nth(1).locator('.block.tool', { hasText: 'Open subagent thread' }).first();
    await agentCall.waitFor({ state: 'visible' });
    assert.match(await turns.nth(1).locator('.block.user pre').first().innerText(), new RegExp(escape(PROMPT_SUBAGENT)));
    assert.equal(await agentCall.locator('vscode-collapsible').first().getAttribute('heading'), 'Agent');

    // The tree: the session, its main thread, and the subagent under the turn that started it.
    await claudeRow.locator('.monaco-tl-twistie').click();
    const spawningTurn = wb.treeRow(PROMPT_SUBAGENT);
    await spawningTurn.waitFor({ state: 'visible' });
    await spawningTurn.locator('.monaco-tl-twistie').click();
    await wb.treeRow(/^subagent: Search this repository/).waitFor({ state: 'visible' });
    await wb.screenshot('13-demo-tree-and-conversation');
    // A row's tooltip is built when the pointer rests on it (docs/decisions.md, decision 75).
    await claudeRow.hover();
    await wb.page.locator('.monaco-hover, .workbench-hover', { hasText: 'Model: claude-sonnet-4-5' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await wb.screenshot('13b-demo-session-tooltip');
    await wb.page.mouse.move(0, 0);

    await agentCall.locator('button.link-button').click();
    await view.locator('.turn .block.user pre', { hasText: SUBAGENT_PROMPT.slice(0, 40) }).first().waitFor({ state: 'visible' });
    await wb.screenshot('14-demo-subagent-thread');

    // Again: a fresh demo store, shown in place of the first one (whose conversation closes).
    await wb.runCommand('LLM Capture: Open a Demo Session');
    await view.locator('.turn .block.user pre', { hasText: PROMPT_TODOS }).first().waitFor({ state: 'visible', timeout: 60_000 });
    assert.equal(await wb.page.locator('.tabs-container .tab', { hasText: 'Count TODO comments in src' }).count(), 1, 'one demo conversation, the new one');
    await claudeRow.waitFor({ state: 'visible' });

    await wb.runCommand('LLM Capture: Close Demo');
    await wb.treeRow('please TOOL run echo from claude').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await claudeRow.isVisible(), false, 'the demo sessions are gone from the view');
    await wb.webview().locator('.turn').first().waitFor({ state: 'detached' });
    assert.equal(await wb.page.locator('.tabs-container .tab', { hasText: 'Count TODO comments in src' }).count(), 0, "the demo's conversation closed with it");
    await demoMessage.waitFor({ state: 'hidden' });
    await wb.screenshot('15-demo-closed');
  });

  /**
   * Types a command into the active terminal with its output going to a file in the workspace,
   * and waits for it to end: the agents' own terminal handling (alternate screens, cursor moves)
   * must not decide what the test can read. Returns the output; fails unless it exited 0.
   */
  async function runInTerminal(name: string, command: string): Promise<string> {
    const out = join((server as RunningServer).sandbox.workspace, `${name}.out`);
    await wb.typeInTerminal(`clear; (${command}; echo "EXIT=$?") < /dev/null > ${name}.out 2>&1; echo "ran ${name}"`);
    let text = '';
    await wb.waitUntil(async () => /^EXIT=\d+$/m.test(text = existsSync(out) ? readFileSync(out, 'utf8') : ''), AGENT_WAIT_MS, `${name} to end`).catch((e: Error) => {
      const seen = [...(fakeAnthropic?.requests ?? []).map((r) => `anthropic ${r.method} ${r.url}`), ...(fakeOpenAi?.calls ?? []).map((c) => `openai ${c.transport}`)];
      throw new Error(`${e.message}\n--- ${name}.out so far ---\n${text.slice(-4000)}\n--- the fakes saw ---\n${seen.slice(-60).join('\n')}`);
    });
    await wb.screenshot(`ran-${name}`);
    assert.match(text, /^EXIT=0$/m, `${name} exited 0:\n${text.slice(-4000)}`);
    return text;
  }

  function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  /** How many updates the conversation pages applied as patches (each page marks one on its performance timeline). */
  async function patchesApplied(): Promise<number> {
    let n = 0;
    for (const f of wb.page.frames()) n += await f.evaluate(() => performance.getEntriesByName('llm-capture:patch').length).catch(() => 0);
    return n;
  }

  /** Clicks the session whose title has the prompt in the sidebar, and waits for its conversation. */
  async function openSession(prompt: string): Promise<void> {
    await wb.runCommand('View: Close All Editors');
    await wb.showCaptureSidebar();
    const row = wb.treeRow(prompt);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await wb.screenshot(`tree-${prompt.split(' ').pop() ?? 'session'}`);
    await row.click();
    await wb.webview().locator('.turn').first().waitFor({ state: 'visible', timeout: 30_000 });
  }
});
