// The conversation page's script in chromium, sent what the host sends a page while its session is
// live: a turn that a later call adds to is drawn again, and what the user had unfolded in it stays
// unfolded; a main thread that comes after a side thread is shown unless another one was chosen. The page is the exported session's (decision 70), the same bundle the webview runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildViewModel } from '../../src/app/conversation-view-builder';
import { loadExportAssets, sessionHtml } from '../../src/app/session-html-export';
import { diffViewModel } from '../../src/app/view-model-diff';
import { Assembler } from '../../src/conversation/assembler';
import type { HostToWebview } from '../../src/shared/conversation-protocol';
import { Clock, FullHistoryConversation, llmCall, text, toolResult, toolUse, usage } from '../support/llm-call-builder';
import { OUT_DIR, REPO_ROOT, vscodeGate } from './harness';
import { launchBrowser, type Browser, type Page } from './workbench';

const gate = vscodeGate();
const SESSION = 'live-tool-turn';

describe('a live conversation page in chromium', () => {
  let dir: string;
  let browser: Browser;

  before(async () => {
    if (gate.skip) return;
    gate.check();
    dir = mkdtempSync(join(tmpdir(), 'llm-capture-live-page-'));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a tool call unfolded before its result arrives stays unfolded, and shows the result', { skip: gate.skip }, async () => {
    // The session as the engine has it after the tool call, and after the call that sent its result.
    const conv = new FullHistoryConversation({ sessionId: SESSION, system: 'S', clock: new Clock(), tools: ['Bash'] });
    const assembler = new Assembler();
    conv.say('please run echo');
    assembler.add(conv.request([toolUse('toolu_1', 'Bash', { command: 'echo fake-tool-ok' })], { usage: usage(100, 20, 0, 900) }));
    const first = buildViewModel(assembler.session(SESSION)!);
    conv.results(toolResult('toolu_1', 'fake-tool-ok'));
    assembler.add(conv.request([text('The tool printed fake-tool-ok.')], { usage: usage(50, 20, 900, 0) }));
    const patch = diffViewModel(first, buildViewModel(assembler.session(SESSION)!));
    assert.equal(patch.threads[0]!.keepTurns, 0, 'the turn itself changed: the page draws it again');

    const file = join(dir, 'session.html');
    writeFileSync(file, sessionHtml(first, await loadExportAssets(join(REPO_ROOT, 'dist', 'webview'))));
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`file://${file}`);
    const turn = page.locator('.turn').first();
    await turn.waitFor({ state: 'visible' });
    await post(page, { type: 'session', model: first, revision: 1 });

    const tool = turn.locator('.block.tool vscode-collapsible').first();
    await tool.click();
    await turn.locator('.block.tool', { hasText: 'No result captured.' }).waitFor({ state: 'visible' });
    await turn.locator('.block.calls vscode-collapsible').first().click();
    await turn.locator('.call').first().waitFor({ state: 'visible' });

    await post(page, { type: 'sessionPatch', base: 1, revision: 2, patch });
    const output = page.locator('.turn').first().locator('.block.tool pre.output');
    await output.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal((await output.innerText()).trim(), 'fake-tool-ok');
    assert.equal(await page.locator('.turn').first().locator('.block.tool vscode-collapsible').first().getAttribute('open'), '', 'the tool call is still open');
    assert.equal(await page.locator('.turn').first().locator('.call').count(), 2, 'the model calls are still open, with the new call in them');
    assert.match(await page.locator('.turn').first().locator('.block.assistant').last().innerText(), /printed fake-tool-ok/);
    await page.screenshot({ path: join(OUT_DIR, 'live-page-tool-result.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a session read in bit by bit shows its main thread once it comes, unless another thread was chosen', { skip: gate.skip }, async () => {
    // Read in exchange order, the session's title call can come before its first main call: the
    // session then has only its title thread, and the page shows that.
    const sessionId = 'title-first';
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId, system: 'S', clock });
    const assembler = new Assembler();
    assembler.add(llmCall({ side: 'title', identity: { sessionId }, startedAt: clock.next(), output: [text('{"title":"Count the TODOs"}')], usage: usage(10, 2), model: 'claude-haiku-4-5' }));
    const titleOnly = buildViewModel(assembler.session(sessionId)!);
    assert.equal(titleOnly.threads.length, 1);
    conv.say('count the TODOs');
    assembler.add(conv.request([text('There are 3.')], { usage: usage(100, 20, 0, 900) }));
    const withMain = buildViewModel(assembler.session(sessionId)!);
    const main = withMain.threads.find((t) => t.kind === 'main')!;
    const title = titleOnly.threads[0]!.id;

    const file = join(dir, 'title-first.html');
    writeFileSync(file, sessionHtml(titleOnly, await loadExportAssets(join(REPO_ROOT, 'dist', 'webview'))));
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    await page.locator('.turn').first().waitFor({ state: 'visible' });
    const shown = () => page.evaluate(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } } }).document.querySelector('select.thread-select').value);
    await post(page, { type: 'session', model: titleOnly, revision: 1 });
    assert.equal(await shown(), title);

    // Not chosen: the main thread, when it comes, is shown.
    await post(page, { type: 'sessionUpdated', model: withMain, revision: 2 });
    await page.locator('.turn .block.user', { hasText: 'count the TODOs' }).first().waitFor({ state: 'visible' });
    assert.equal(await shown(), main.id);

    // Chosen (here by the host, as a link to a thread does): kept through updates.
    await post(page, { type: 'showThread', threadId: title });
    await post(page, { type: 'sessionUpdated', model: withMain, revision: 3 });
    assert.equal(await shown(), title);
    await page.close();
  });
});

/** A message from the host, as the webview receives it. */
async function post(page: Page, message: HostToWebview): Promise<void> {
  await page.evaluate((data: unknown) => {
    const w = globalThis as unknown as { dispatchEvent(e: object): boolean; MessageEvent: new (type: string, init: { data: unknown }) => object };
    w.dispatchEvent(new w.MessageEvent('message', { data }));
  }, JSON.parse(JSON.stringify(message)) as unknown);
}
