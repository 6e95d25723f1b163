// The workbench side of bench/extension-bench.ts: Playwright's page with a script injected into
// every frame that stamps events on a clock all of chromium's processes share, and the few
// workbench actions the bench makes beyond test/vscode/workbench.ts.
import type { RunningServer } from '../../test/vscode/code-server';
import { launchBrowser, Workbench, type Browser, type Locator, type Page } from '../../test/vscode/workbench';

interface BenchFrame {
  url(): string;
  evaluate<R>(expression: string): Promise<R>;
}
interface BenchFrameLocator {
  frameLocator(selector: string): BenchFrameLocator;
  locator(selector: string): Locator;
}
/** The same Playwright page as Workbench.page, typed for the calls only this bench makes. */
export interface BenchPage {
  addInitScript(script: { content: string }): Promise<void>;
  evaluate<R>(expression: string): Promise<R>;
  frames(): BenchFrame[];
  frameLocator(selector: string): BenchFrameLocator;
}
export interface HoverLocator extends Locator {
  hover(options?: { timeout?: number }): Promise<void>;
}

/**
 * Runs in every frame (the workbench and both webview iframes) before its own scripts. It stamps
 * events with performance.timeOrigin + performance.now(), a wall clock shared by chromium's
 * processes, so a click in the workbench and a paint in the webview's frame can be subtracted.
 */
const INIT_SCRIPT = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const b = (window.__llmcBench = { marks: {}, counts: {} });
  if (window === window.top) {
    addEventListener('click', () => { b.marks.click = now(); }, true);
    addEventListener('keydown', (e) => { if (e.key === 'Enter') b.marks.enter = now(); }, true);
    // Armed by the bench just before an action: stamps (once) the first element that matches a
    // selector, contains a text and, if given, has aria-setsize = setsize (a tree row whose level
    // has that many rows). Several can be armed at once.
    const observers = {};
    b.arm = (name, selector, text, setsize) => {
      observers[name]?.disconnect();
      delete b.marks[name];
      const check = () => {
        for (const el of document.querySelectorAll(selector)) {
          if (!(el.textContent || '').includes(text)) continue;
          if (setsize !== undefined && el.getAttribute('aria-setsize') !== String(setsize)) continue;
          b.marks[name] = now();
          b.counts[name] = Number(el.getAttribute('aria-setsize'));
          observers[name].disconnect();
          return;
        }
      };
      observers[name] = new MutationObserver(check);
      observers[name].observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-setsize'] });
    };
    return;
  }
  // A webview frame: stamp the conversation's title, its first turn in the DOM, and the frame after it;
  // and, for where the time went, when the frame began and when its scripts and styles loaded.
  b.marks.frameOrigin = performance.timeOrigin;
  const loads = () => {
    b.loads = performance.getEntriesByType('resource').map((r) => ({ name: r.name.split('/').pop().split('?')[0], start: performance.timeOrigin + r.startTime, end: performance.timeOrigin + r.responseEnd }));
    // The page's own marks (webview-ui/src/main.ts): script ran, ready posted, session received, drawn.
    for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('llm-capture:')) b.marks[m.name.slice(12)] = performance.timeOrigin + m.startTime;
  };
  const check = () => {
    const title = document.querySelector('h1.title');
    if (title && title.textContent && !b.marks.title) { b.marks.title = now(); b.title = title.textContent; }
    const turns = document.querySelectorAll('.turns .turn');
    if (turns.length > 0 && !b.marks.turnDom) {
      b.marks.turnDom = now();
      b.turnsAtDom = turns.length;
      // The frame that shows the turn: its layout done (forced here), its paint follows at once. Stamped
      // inside that frame, not on a later task, which work the page defers past its first frame would delay.
      requestAnimationFrame(() => {
        const r = turns[0].getBoundingClientRect();
        b.marks.turnPaint = now();
        b.firstTurnVisible = r.height > 0 && r.top < innerHeight;
        b.turnsAtPaint = document.querySelectorAll('.turns .turn').length;
        setTimeout(loads, 0);
      });
    }
  };
  // Armed before another session is opened in this page (a preview panel reused): stamps the frame
  // that first shows a turn under a title containing the text.
  b.armSwitch = (text) => {
    delete b.marks.switchPaint;
    const poll = setInterval(() => {
      const title = document.querySelector('h1.title');
      const turn = document.querySelector('.turns .turn');
      if (!title || !(title.textContent || '').includes(text) || !turn) return;
      clearInterval(poll);
      requestAnimationFrame(() => { turn.getBoundingClientRect(); b.marks.switchPaint = now(); });
    }, 4);
  };
  // VS Code writes the webview's page into its frame with document.write, which a MutationObserver
  // registered at load does not survive; a 4 ms poll does (and stops once everything is stamped).
  const timer = setInterval(() => {
    check();
    if (b.marks.title && b.marks.turnPaint) clearInterval(timer);
  }, 4);
})();`;

export interface FrameBench {
  marks: Record<string, number>;
  title?: string;
  turnsAtDom?: number;
  turnsAtPaint?: number;
  firstTurnVisible?: boolean;
  /** Scripts, styles and fonts the frame loaded: absolute start and end. */
  loads?: { name: string; start: number; end: number }[];
  /** When each webview frame (VS Code's host page, then ours) began, in page order. */
  frameOrigins?: number[];
}

export async function mainMarks(page: BenchPage): Promise<Record<string, number>> {
  return page.evaluate<Record<string, number>>('window.__llmcBench.marks');
}

/** The aria-setsize of the element each armed mark stamped. */
export async function mainCounts(page: BenchPage): Promise<Record<string, number>> {
  return page.evaluate<Record<string, number>>('window.__llmcBench.counts');
}

export async function arm(page: BenchPage, name: string, selector: string, text: string, setsize?: number): Promise<void> {
  await page.evaluate(`window.__llmcBench.arm(${JSON.stringify(name)}, ${JSON.stringify(selector)}, ${JSON.stringify(text)}, ${setsize === undefined ? 'undefined' : setsize})`);
}

/**
 * Watches the sidebar's progress bars (a view's withProgress): "progressOn" is stamped when one
 * first runs, "progressOff" each time none runs any more (the last one stays); progressState()
 * says whether one runs now and how many runs there were.
 */
export async function armProgress(page: BenchPage): Promise<void> {
  await page.evaluate(`(() => {
    const b = window.__llmcBench;
    const now = () => performance.timeOrigin + performance.now();
    b.progressObserver?.disconnect();
    delete b.marks.progressOn;
    delete b.marks.progressOff;
    b.progressRunning = false;
    b.progressRuns = 0;
    const check = () => {
      const sidebar = document.getElementById('workbench.parts.sidebar');
      const running = !!sidebar && [...sidebar.querySelectorAll('.monaco-progress-container.active')].some((el) => el.getClientRects().length > 0);
      if (running && !b.progressRunning) { b.progressRuns++; if (b.marks.progressOn === undefined) b.marks.progressOn = now(); }
      if (!running && b.progressRunning) b.marks.progressOff = now();
      b.progressRunning = running;
    };
    b.progressObserver = new MutationObserver(check);
    b.progressObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'style'] });
  })()`);
}

export async function progressState(page: BenchPage): Promise<{ running: boolean; runs: number; now: number }> {
  return page.evaluate('({ running: window.__llmcBench.progressRunning, runs: window.__llmcBench.progressRuns, now: performance.timeOrigin + performance.now() })');
}

/** The stamps of the webview frame that shows a conversation, if any. */
export async function webviewBench(page: BenchPage): Promise<FrameBench | undefined> {
  const origins: number[] = [];
  let found: FrameBench | undefined;
  for (const frame of page.frames()) {
    const origin = await frame.evaluate<number | null>('window.__llmcBench && window !== window.top ? window.__llmcBench.marks.frameOrigin : null').catch(() => null);
    if (origin) origins.push(origin);
    const b = await frame.evaluate<FrameBench | null>('window.__llmcBench && window.__llmcBench.marks.turnDom ? window.__llmcBench : null').catch(() => null);
    if (b) found ??= b;
  }
  return found && { ...found, frameOrigins: origins.sort((a, b) => a - b) };
}

/** Arms the switch mark in every conversation frame up now (see armSwitch in the init script). */
export async function armSwitch(page: BenchPage, title: string): Promise<void> {
  for (const frame of page.frames()) await frame.evaluate(`window.__llmcBench && window.__llmcBench.armSwitch && window.__llmcBench.armSwitch(${JSON.stringify(title)})`).catch(() => undefined);
}

/**
 * When a conversation titled `title` first painted a turn after `since`: in a page up before (the
 * switch mark), or in a page that began after it (its first paint).
 */
export async function switchPaint(page: BenchPage, title: string, since: number): Promise<number | undefined> {
  let best: number | undefined;
  for (const frame of page.frames()) {
    const b = await frame.evaluate<FrameBench | null>('window.__llmcBench && window !== window.top ? window.__llmcBench : null').catch(() => null);
    if (!b) continue;
    const fresh = b.marks.frameOrigin !== undefined && b.marks.frameOrigin > since && (b.title ?? '').includes(title) ? b.marks.turnPaint : undefined;
    for (const t of [b.marks.switchPaint, fresh]) if (t !== undefined && t > since) best = Math.min(best ?? t, t);
  }
  return best;
}

/** Every frame's stamps, for BENCH_DEBUG. */
export async function dumpFrames(page: BenchPage): Promise<void> {
  for (const f of page.frames()) console.log('frame', f.url().slice(0, 150), await f.evaluate<string>('JSON.stringify(window.__llmcBench || null)').catch((e: Error) => e.message));
}

/** Opens Developer: Show Running Extensions and reads this extension's "Activation: N ms". */
export async function activationMs(wb: Workbench): Promise<number> {
  await wb.runCommand('Developer: Show Running Extensions');
  const row = wb.page.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: 'LLM Capture' }).first();
  let text = '';
  const firstRow = wb.page.locator('.runtime-extensions-editor .monaco-list-row').first();
  await wb.waitUntil(async () => {
    const drawn = await row.count() > 0;
    if (drawn) text = await row.locator('.activation-time').innerText().catch(() => '');
    if (/Activation: \d+ms/.test(text)) return true;
    // The list is sorted by activation time and draws only the rows in view: ours may be further down.
    if (!drawn && await firstRow.isVisible().catch(() => false)) {
      await firstRow.click({ timeout: 1_000 }).catch(() => undefined);
      await wb.page.keyboard.press('PageDown');
    }
    return false;
  }, 60_000, 'the activation time of LLM Capture in Running Extensions');
  await wb.runCommand('View: Close All Editors');
  return Number(/(\d+)ms/.exec(text)![1]);
}

export interface OpenedWorkbench { browser: Browser; page: Page; raw: BenchPage; wb: Workbench; loadMs: number }

export async function openWorkbench(server: RunningServer, name: string): Promise<OpenedWorkbench> {
  const browser = await launchBrowser();
  const page = browser.page;
  const raw = page as unknown as BenchPage;
  await raw.addInitScript({ content: INIT_SCRIPT });
  const wb = new Workbench(page, name);
  const t0 = performance.now();
  await wb.open(server.url);
  return { browser, page, raw, wb, loadMs: performance.now() - t0 };
}
