// Drives the VS Code workbench in Debian's chromium through playwright-core (which downloads
// nothing), with the selectors from docs (shared E2E notes) that hold on VS Code 1.100 and 1.139.
// playwright-core lives in test/vscode/node_modules and may be absent, so it is loaded at run
// time and typed here by the small part of its API these tests use.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, OUT_DIR, requireTestModule } from './harness';

export interface Locator {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  filter(options: { hasText: string | RegExp }): Locator;
  click(options?: { timeout?: number }): Promise<void>;
  hover(options?: { timeout?: number }): Promise<void>;
  fill(value: string): Promise<void>;
  press(key: string): Promise<void>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  innerText(): Promise<string>;
  innerHTML(): Promise<string>;
  textContent(): Promise<string | null>;
  getAttribute(name: string): Promise<string | null>;
  allInnerTexts(): Promise<string[]>;
  count(): Promise<number>;
  isVisible(): Promise<boolean>;
  scrollIntoViewIfNeeded(): Promise<void>;
}

export interface FrameLocator {
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  frameLocator(selector: string): FrameLocator;
}

export interface Frame {
  url(): string;
  evaluate<R>(fn: () => R): Promise<R>;
}

export interface ConsoleMessage {
  type(): string;
  text(): string;
}

export interface Page {
  goto(url: string, options?: { waitUntil?: 'load' | 'domcontentloaded'; timeout?: number }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  frameLocator(selector: string): FrameLocator;
  frames(): Frame[];
  keyboard: { press(key: string): Promise<void>; type(text: string, options?: { delay?: number }): Promise<void> };
  mouse: { move(x: number, y: number): Promise<void> };
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  exposeFunction(name: string, fn: (...args: never[]) => unknown): Promise<void>;
  on(event: 'console', listener: (message: ConsoleMessage) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  waitForTimeout(ms: number): Promise<void>;
  setDefaultTimeout(ms: number): void;
  evaluate<T>(fn: () => T): Promise<T>;
  evaluate<T, A>(fn: (arg: A) => T, arg: A): Promise<T>;
  route(url: string, handler: (route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> }) => unknown): Promise<void>;
  close(): Promise<void>;
}

interface BrowserContext {
  pages(): Page[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

interface PlaywrightCore {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[]; viewport?: { width: number; height: number } },
    ): Promise<BrowserContext>;
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  page: Page;
  /** Another page in the same browser: another VS Code window (with its own extension host). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Headless chromium with a throwaway profile, one page. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = requireTestModule<PlaywrightCore>('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'llm-capture-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  return {
    page,
    async newPage() {
      const p = await context.newPage();
      p.setDefaultTimeout(30_000);
      return p;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const PALETTE_INPUT = '.quick-input-widget .quick-input-box input';
const TOASTS = '.notifications-toasts .notification-toast.notification-fade-in-done';
const ACTIVE_TERMINAL = '.terminal-wrapper.active';

export class Workbench {
  constructor(
    readonly page: Page,
    /** Screenshot names are prefixed with this. */
    readonly name: string,
  ) {}

  /** Opens the workbench at url and waits until it can take commands. */
  async open(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 });
    await this.page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: 120_000 });
  }

  /**
   * Runs a command by its palette title ("Category: Title") through F1. An extension's commands
   * reach the palette once the extension host has read its manifest, so the palette is reopened
   * until the row shows up.
   */
  async runCommand(title: string, timeoutMs = 60_000): Promise<void> {
    const input = await this.openCommand(title, timeoutMs);
    await input.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /** Opens the palette with the command's row showing, without running it; returns the palette's input. */
  async openCommand(title: string, timeoutMs = 60_000): Promise<Locator> {
    const input = this.page.locator(PALETTE_INPUT);
    const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.keyboard.press('F1');
      const opened = await input.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false);
      if (opened) {
        await input.fill(`>${title}`);
        if (await row.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false)) break;
      }
      if (Date.now() > deadline) {
        const shot = await this.screenshot(`palette-missing-${title.replace(/\W+/g, '-')}`).catch(() => '(no screenshot)');
        const rows = await this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => []);
        throw new Error(`the palette has no row "${title}" (rows: ${JSON.stringify(rows.slice(0, 10))}; screenshot: ${shot})`);
      }
      await this.page.keyboard.press('Escape');
      // The workbench may not have focus yet.
      if (!opened) await this.page.locator('#workbench\\.parts\\.statusbar').click().catch(() => undefined);
    }
    return input;
  }

  /** The texts of the visible notification toasts. */
  async toasts(): Promise<string[]> {
    return this.page.locator(TOASTS).allInnerTexts();
  }

  /** Waits for a toast whose text matches, and returns its text. */
  async waitForToast(match: RegExp, timeoutMs = 60_000): Promise<string> {
    const toast = this.page.locator(TOASTS).filter({ hasText: match }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return toast.innerText();
  }

  /** Closes every toast (so that the next assertion sees only new ones). */
  async clearToasts(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator(TOASTS).first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  }

  /** Opens a new terminal and waits until its shell prints a prompt. */
  async openTerminal(): Promise<void> {
    const before = await this.page.locator('.terminal-wrapper').count();
    await this.runCommand('Terminal: Create New Terminal');
    await this.waitUntil(async () => (await this.page.locator('.terminal-wrapper').count()) > before, 30_000, 'a new terminal');
    const xterm = this.page.locator(`${ACTIVE_TERMINAL} .xterm`);
    await xterm.waitFor({ state: 'visible', timeout: 30_000 });
    await this.waitUntil(async () => /[$#]\s*$/.test((await this.terminalText()).trimEnd() + ' '), 30_000, 'a shell prompt');
  }

  /** Types a line into the active terminal and presses Enter. */
  async typeInTerminal(text: string): Promise<void> {
    await this.page.locator(`${ACTIVE_TERMINAL} .xterm`).click();
    await this.page.keyboard.type(text);
    await this.page.keyboard.press('Enter');
  }

  /** What the active terminal shows (its rows, as text). */
  async terminalText(): Promise<string> {
    const rows = this.page.locator(`${ACTIVE_TERMINAL} .xterm-rows`);
    if ((await rows.count()) === 0) return '';
    return (await rows.first().innerText()).replace(/\u00a0/g, ' ');
  }

  /** Waits until the active terminal's text matches, and returns the match. */
  async waitForTerminal(match: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    let found: RegExpMatchArray | null = null;
    await this.waitUntil(async () => (found = (await this.terminalText()).match(match)) !== null, timeoutMs, `terminal text ${match}`);
    return found as unknown as RegExpMatchArray;
  }

  /** Opens the LLM Capture view container from its activity bar icon (which must be there). */
  async showCaptureSidebar(): Promise<void> {
    const icon = this.page.locator('.activitybar .action-item .action-label[aria-label^="LLM Capture"]').first();
    await icon.waitFor({ state: 'visible', timeout: 30_000 });
    const sessions = this.page.locator('.sidebar .pane-header', { hasText: /Sessions/i }).first();
    if (!(await sessions.isVisible())) await icon.click();
    await sessions.waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** A row of the sidebar's trees whose text matches. */
  treeRow(match: string | RegExp): Locator {
    return this.page.locator('.sidebar .monaco-list-row', { hasText: match }).first();
  }

  /** The document inside the visible webview panel (VS Code nests it in two iframes). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  }

  /** Saves a screenshot to .ci-out/vscode/<name>-<step>.png and returns its path. */
  async screenshot(step: string): Promise<string> {
    mkdirSync(OUT_DIR, { recursive: true });
    const path = join(OUT_DIR, `${this.name}-${step}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  async waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) {
        const shot = await this.screenshot(`timeout`).catch(() => '(no screenshot)');
        throw new Error(`timed out waiting for ${what}; screenshot: ${shot}`);
      }
      await this.page.waitForTimeout(200);
    }
  }
}
