// A session exported as one HTML file (decision 70), opened in chromium from disk with the network
// cut off: it draws as the conversation view does (turns, the model calls, the context chart), a
// malicious answer stays text and runs nothing, and no secret of the capture is in the file. The
// demo's session comes through `llm-capture demo` and `llm-capture show --html`, as a user runs them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildViewModel } from '../../src/app/conversation-view-builder';
import { loadExportAssets, sessionHtml } from '../../src/app/session-html-export';
import { assemble } from '../../src/conversation/assembler';
import { DEMO_ANTHROPIC_KEY } from '../../src/demo/claude-script';
import { DEMO_OPENAI_KEY } from '../../src/demo/codex-script';
import { MALICIOUS_ANSWER } from '../support/fake-anthropic';
import { Clock, FullHistoryConversation, text, usage } from '../support/llm-call-builder';
import { runCli } from '../cli/cli-process';
import { OUT_DIR, REPO_ROOT, vscodeGate } from './harness';
import { launchBrowser, type Browser, type Page } from './workbench';

const gate = vscodeGate();

describe('a session exported as HTML, in chromium', () => {
  let dir: string;
  let browser: Browser;

  before(async () => {
    if (gate.skip) return;
    gate.check();
    dir = mkdtempSync(join(tmpdir(), 'llm-capture-html-'));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the demo session through `llm-capture show --html`: turns, model calls and the chart, no key in the file', { skip: gate.skip }, async () => {
    const dataDir = join(dir, 'demo');
    await cli(['demo', '--data-dir', dataDir]);
    const sessions = JSON.parse(await cli(['sessions', '--json', '--data-dir', dataDir])) as Array<{ id: string; client: string }>;
    const id = sessions.find((s) => s.client === 'claude-code')!.id;
    const file = join(dir, 'session.html');
    assert.match(await cli(['show', id.slice(0, 8), '--html', file, '--data-dir', dataDir]), new RegExp(`wrote session ${id} to `));
    const html = readFileSync(file, 'utf8');
    for (const secret of [DEMO_ANTHROPIC_KEY, DEMO_OPENAI_KEY]) assert.ok(!html.includes(secret), 'the captured key is not in the file');

    const page = await offline(browser);
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`file://${file}`);
    await page.locator('.turn').first().waitFor({ state: 'visible' });
    assert.equal(await page.locator('h1.title').innerText(), 'Count TODO comments in src');
    assert.ok(await page.locator('.turn').count() >= 2);
    await page.locator('.context-chart svg path.cached').first().waitFor({ state: 'attached' });
    assert.match(await page.locator('.chart-caption').innerText(), /Context per call · 4 calls/, 'the main thread\'s four model calls');
    await page.locator('.turn .block.calls vscode-collapsible').first().click();
    await page.locator('.turn .call').first().waitFor({ state: 'visible' });
    await page.screenshot({ path: join(OUT_DIR, 'html-export-demo.png') });
    assert.deepEqual(problems, [], 'no script error and nothing the CSP refused');
  });

  test('a malicious answer shows as text in the exported page and runs nothing', { skip: gate.skip }, async () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'malicious', system: 'S', clock });
    conv.say('please MALICIOUS');
    const detail = assemble([conv.request([text(MALICIOUS_ANSWER)], { usage: usage(10, 20, 0, 1000) })]).session('malicious')!;
    const file = join(dir, 'malicious.html');
    writeFileSync(file, sessionHtml(buildViewModel(detail), await loadExportAssets(join(REPO_ROOT, 'dist', 'webview'))));
    const page = await offline(browser);
    await page.goto(`file://${file}`);
    const answer = page.locator('.turn .block.assistant').first();
    await answer.waitFor({ state: 'visible' });
    assert.match(await answer.innerText(), /FAKE-MALICIOUS/);
    // Give any handler a chance to fire, then look for what each payload would set.
    await page.locator('.turn .block.assistant a').first().click({ timeout: 1000 }).catch(() => undefined);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __llmCapturePwned?: number }).__llmCapturePwned), undefined);
    assert.equal(await page.locator('.turn script, .turn img[onerror], .turn [href^="javascript:"]').count(), 0);
    await page.screenshot({ path: join(OUT_DIR, 'html-export-malicious.png') });
    await page.close();
  });
});

/** A new page that may load its own file and nothing else: an exported session needs nothing from anywhere. */
async function offline(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  return page;
}

/** `llm-capture ARGS` as a user runs it; its stdout. */
async function cli(args: string[]): Promise<string> {
  const run = await runCli(args);
  assert.equal(run.code, 0, `llm-capture ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}
