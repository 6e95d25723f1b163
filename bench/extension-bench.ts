// Extension benchmark: built extensions in a real VS Code (code-server 4.139.1, driven by
// Playwright in Debian's chromium, as test/vscode/ui.test.ts does). Prints figures, asserts nothing.
//   npm run build && npx tsx bench/extension-bench.ts          (about 3 minutes a build; also `npm run bench:extension`)
//   npx tsx bench/extension-bench.ts --starts=1 --gb=0.25      (quicker: one server start, 256 MB of traffic)
//   npx tsx bench/extension-bench.ts --before=/tmp/before-ext --calls=5000   (an older build and dist/, one after the other)
//   (--after=DIR measures another build than this checkout's dist/; --extension=DIR, repeated, any builds in that order)
// Needs `bash test/vscode/install.sh`. What it measures, and how, is in bench/README.md.
// Each build runs in its own sandbox with bench/host-probe installed beside it (an extension that
// measures the extension host main thread's event-loop delay from inside), through:
//   1. Activation time, as VS Code's Running Extensions editor reports it, median over N server starts.
//   2. Cold open: N stored calls (--calls) ending with a 500-turn Claude Code session; the Sessions
//      view lists them after the sidebar opens, and the 500-turn session's first turn paints after a click.
//      Then reopen: the window and server closed (once the engine has written derived/, if the build
//      does) and started again on the same data directory, the same figures measured again ("reopen: …").
//   3. Start Capture → "LLM Capture is listening on" toast, without and with an existing CA (and,
//      on the further starts, in a fresh window with the CA present).
//   4. A live conversation on screen (--live-calls, 0 to skip): one session grows call by call with its
//      panel open; how soon the page shows each call, what it was sent, the main thread's CPU and delay.
//   5. Extension host RSS, CPU and event-loop delay before, during and after 1 GB of LLM-like
//      traffic through its proxy, and the store's size.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '../test/support/test-pki';
import { seededRandom, TextGenerator } from '../test/store/fixtures/synthetic-session';
import { startCodeServerIn, type RunningServer, type Sandbox } from '../test/vscode/code-server';
import { REPO_ROOT, vscodeGate } from '../test/vscode/harness';
import type { Browser, Workbench } from '../test/vscode/workbench';
import {
  copyCa, cpuMs, diskBytes, distHas, extensionHostPid, findLog, findLogs, globalStorage, logLines, logTimes, mainThreadCpuMs, mainThreadSched, Probe,
  procStatus, sandboxFor, snapshotBuild, type Build, type LoopDelay,
} from './extension-bench/host';
import { activationMs, arm, armProgress, armSwitch, dumpFrames, progressState, mainCounts, mainMarks, openWorkbench, switchPaint, webviewBench, type BenchPage, type HoverLocator, type OpenedWorkbench } from './extension-bench/page';
import { assembleSession, BIG_TITLE, FAKE_HOST, seedStore } from './extension-bench/seed';
import { SCHEMA_VERSION, type CaptureStore } from '../src/store';
import { pushTraffic, startSink } from './extension-bench/traffic';
import { liveConversation } from './extension-bench/live-panel';
import { formatSmaps, smapsSummary } from './smaps';

const argValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const arg = (name: string, fallback: number) => Number(argValue(name) ?? fallback);
const argList = (name: string) => process.argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.split('=').slice(1).join('='));
/** Server starts per build for the activation median (the first one also runs everything else). */
const STARTS = Math.max(1, arg('starts', 3));
const TURNS = arg('turns', 500);
/** Calls in the store the cold open reads: the TURNS-turn session and older, smaller sessions. */
const CALLS = Math.max(TURNS, arg('calls', TURNS));
/** Traffic pushed through the extension's proxy, in GiB. */
const GIB = arg('gb', 1);
/** MB a second the traffic is paced to (--rate); unpaced by default, a flood that capture cannot follow on 2 cores. */
const RATE = argValue('rate') !== undefined ? arg('rate', 0) : undefined;
/** --profile-main: a CPU profile of the extension host's main thread during the traffic, in bench/results/profiles/extension-main/. */
const PROFILE_MAIN = process.argv.includes('--profile-main');
/**
 * --no-port-scan: VS Code's search for ports to forward off. In a remote window (code-server is one) VS Code's extension host
 * looks for ports to forward every 2 s or more by spawning `ls -l /proc/[0-9]*\/fd/[0-9]*` from its main thread and reading
 * /proc; under traffic that scan is most of the main thread's stalls (--profile-main shows it). Desktop VS Code does not run it.
 */
const NO_PORT_SCAN = process.argv.includes('--no-port-scan');
/** code-server registers a tunnel provider, so `remote.autoForwardPorts: false` alone leaves the scan on; the source "output" turns it off. */
const NO_PORT_SCAN_SETTINGS = { 'remote.autoForwardPorts': false, 'remote.autoForwardPortsSource': 'output' };
/** Calls of the live conversation (--live-calls; 0 skips the phase), one every --live-interval ms. */
const LIVE_CALLS = arg('live-calls', 200);
/**
 * --history-age=MIN: the stored history's last call ended MIN minutes before the run (default 2). At 35 or more every
 * stored session has been idle long enough for a build with decision 94 to go on from its saved assembly when capture starts.
 */
const HISTORY_AGE_MS = arg('history-age', 2) * 60_000;
const LIVE_INTERVAL_MS = arg('live-interval', 500);
/** --live-stream=MS: each live answer streams over MS ms (0: at once), so the page also gets previews of calls in progress. */
const LIVE_STREAM_MS = arg('live-stream', 0);
/** The traffic phase stops pushing after this long, whatever it reached (the figures say how much). */
const PUSH_BUDGET_MS = 210_000;
/** Idle spells over which the loop delay is measured for a baseline. */
const IDLE_MS = 5_000;
const MB = 1024 * 1024;
const ACTIVATION = `activation (Running Extensions, median of ${STARTS}) (ms)`;
const OWN_ACTIVATION = `  of it LLM Capture's own: code loaded + activate() until resolved (VS Code's marks, median) (ms)`;
const EXTENSION_JS = 'extension.js (KB)';
const FRESH_START = 'Start Capture, fresh window, CA present → toast (median ms)';
const SIDEBAR_ROW = '#workbench\\.parts\\.sidebar .monaco-list-row';

// ---- figures: one column per build, the ratio of the last to the first -------------------------------

interface Cell { v?: number; text: string }
/** Label → build → cell, in the order the table prints (these first, the rest as measured). */
const table = new Map<string, Map<string, Cell>>([ACTIVATION, OWN_ACTIVATION, EXTENSION_JS, ...(STARTS > 1 ? [FRESH_START] : [])].map((l) => [l, new Map()]));
const notes: string[] = [];
let current = '';
const record = (label: string, v: number | undefined, text = fmt(v)) => {
  if (!table.has(label)) table.set(label, new Map());
  table.get(label)!.set(current, { v: v === undefined || Number.isNaN(v) ? undefined : v, text });
  console.log(`  ${label}: ${text}`);
};
const note = (message: string) => {
  const text = message.replace(/\s+/g, ' ').trim();
  notes.push(`[${current}] ${text}`);
  console.log(`  note: ${text}`);
};
function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits);
}
const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toFixed(0)} ms`);
const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const median = (v: number[]) => (v.length === 0 ? NaN : [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!);

function recordLoop(what: string, d: LoopDelay | undefined, prefix = ''): void {
  record(`${prefix}loop delay ${what}: p50 ms`, d?.p50, fmt(d?.p50, 1));
  record(`${prefix}loop delay ${what}: p99 ms`, d?.p99, fmt(d?.p99, 1));
  record(`${prefix}loop delay ${what}: max ms`, d?.max, fmt(d?.max, 1));
  if (d) {
    const over = d.perSecondMax.filter((m) => m > 50).length;
    console.log(`    (${(d.sinceMs / 1000).toFixed(1)} s, ${d.samples} samples, mean ${d.mean.toFixed(2)} ms, main thread busy ${(100 * d.utilization).toFixed(0)}%, its heap ${d.heapUsedMb?.toFixed(0) ?? '?'} MB, ${over} of ${d.perSecondMax.length} seconds had a stall > 50 ms)`);
  }
}

function printTable(builds: Build[]): void {
  const labels = [...table.keys()];
  const lw = Math.max(...labels.map((l) => l.length));
  const cols = builds.map((b) => b.label);
  const cw = cols.map((c) => Math.max(c.length, ...labels.map((l) => table.get(l)!.get(c)?.text.length ?? 3)));
  const first = cols[0]!;
  const last = cols[cols.length - 1]!;
  const ratioHead = cols.length > 1 ? `${last}/${first}` : '';
  console.log(`  ${''.padEnd(lw)}  ${cols.map((c, i) => c.padStart(cw[i]!)).join('  ')}  ${ratioHead}`);
  for (const label of labels) {
    const row = table.get(label)!;
    const a = row.get(first)?.v;
    const b = row.get(last)?.v;
    const ratio = cols.length > 1 && a !== undefined && b !== undefined && a !== 0 ? `${(b / a).toFixed(2)}×` : '';
    console.log(`  ${label.padEnd(lw)}  ${cols.map((c, i) => (row.get(c)?.text ?? '-').padStart(cw[i]!)).join('  ')}  ${ratio}`);
  }
}

/** Where --profile-main writes a profile of this build: bench/results/profiles/extension-main/<kind><build>-<time>.cpuprofile. */
function profileFile(kind: string): string {
  const dir = join(REPO_ROOT, 'bench', 'results', 'profiles', 'extension-main');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${kind}${current.replace(/[^\w.-]+/g, '_')}-${Date.now()}.cpuprofile`);
}

// ---- one build ---------------------------------------------------------------------------------------------

interface Shared {
  pki: TestPki;
  pool: string;
  sinkPort: number;
  seedDir: string;
  /** A build whose own store has another schema gets the same calls written by its own CaptureStore. */
  seedDirs: Map<string, string>;
  seeded: Awaited<ReturnType<typeof seedStore>>;
  assembled: Awaited<ReturnType<typeof assembleSession>>;
}

/** Waits (polling from the bench) until an armed in-page mark is stamped; false on timeout. */
async function waitForMark(raw: BenchPage, wb: Workbench, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await mainMarks(raw))[name] !== undefined) return true;
    await wb.page.waitForTimeout(100);
  }
  return false;
}

/** The extension's errors and warnings, in its own log and in the extension host's. */
function logProblems(sandbox: Sandbox): string[] {
  const own = findLogs(sandbox, /LLM Capture\.log$/).flatMap((f) => logLines(f, /\[(error|warning)\]/i));
  const host = findLogs(sandbox, /exthost\.log$/).flatMap((f) => logLines(f, /\[error\]/i)).filter((l) => /llm-capture/i.test(l));
  return [...own, ...host];
}

/**
 * The Sessions view opened from the activity bar: click → first row, all sessions listed, all
 * calls read; then the TURNS-turn session opened. `reopen` (labels "reopen: …"): the same on a data
 * directory a previous start has read (derived/ there if the build writes it).
 */
async function coldOpen(o: OpenedWorkbench, s: Shared, probe: Probe, build: Build, reopen = false): Promise<void> {
  const { page, raw, wb } = o;
  const { seeded, assembled } = s;
  const p = reopen ? 'reopen: ' : '';
  const head = reopen ? 'reopen' : 'cold open';
  console.log(`\n[2${reopen ? 'r' : ''}] ${reopen ? 'reopen (the same data directory, a new server and window)' : 'cold open'}: ${seeded.calls} stored calls in ${assembled.sessions} sessions (capture stopped)`);
  const icon = page.locator('.activitybar .action-item a.action-label[aria-label^="LLM Capture"]').first();
  if (seeded.sessions > 1) await arm(raw, 'firstSeeded', SIDEBAR_ROW, 'Seeded session');
  await arm(raw, 'bigRow', SIDEBAR_ROW, BIG_TITLE);
  await arm(raw, 'listed', SIDEBAR_ROW, BIG_TITLE, assembled.sessions);
  await arm(raw, 'allRead', SIDEBAR_ROW, assembled.rowText);
  // A build that shows its reading on the view's progress bar is read once that bar has gone (with
  // derived/ the rows read their final text at once, while the exchanges are still read behind them).
  const showsProgress = distHas(build, 'viewId: "llmCapture.sessions"');
  await armProgress(raw);
  await probe.reset();
  await icon.click();
  const deadline = Date.now() + 600_000;
  let read = await waitForMark(raw, wb, 'allRead', 600_000);
  let m = await mainMarks(raw);
  let sawProgress = false;
  let runs = 0;
  if (showsProgress && read) {
    // The bar may start a moment after the rows, and run more than once (the tree's own loading
    // too): read once none has run for 3 s (10 s if none ran at all).
    for (;;) {
      m = await mainMarks(raw);
      const st = await progressState(raw);
      runs = st.runs;
      const quietSince = m.progressOff ?? m.allRead!;
      if (Date.now() > deadline || (!st.running && st.now - quietSince > (m.progressOn === undefined ? 10_000 : 3_000))) break;
      await page.waitForTimeout(100);
    }
    sawProgress = m.progressOn !== undefined;
    if (!sawProgress) note(`${p}the build reports progress on the Sessions view, but no progress bar ran in the sidebar within 10 s of the rows; all calls read = the row's text`);
    else if ((await progressState(raw)).running) {
      read = false;
      note(`${p}the Sessions view's progress bar still ran after 600 s`);
    }
  }
  const delay = await probe.read();
  m = await mainMarks(raw);
  const since = (name: string) => (m[name] !== undefined && m.click !== undefined ? m[name]! - m.click : undefined);
  const allRead = sawProgress ? (m.progressOff !== undefined && m.allRead !== undefined ? Math.max(m.progressOff, m.allRead) - m.click! : undefined) : since('allRead');
  const firstRow = Math.min(...['firstSeeded', 'bigRow'].map(since).filter((v): v is number => v !== undefined));
  record(`${head}: sidebar click → first session row (ms)`, Number.isFinite(firstRow) ? firstRow : undefined, ms(Number.isFinite(firstRow) ? firstRow : undefined));
  record(`${head}: sidebar click → tree lists all ${assembled.sessions} sessions (ms)`, since('listed'), ms(since('listed')));
  record(`${head}: sidebar click → all ${seeded.calls} calls read (ms)`, allRead, ms(allRead));
  console.log(`    (the ${TURNS}-turn session's row, on top, reads "${assembled.rowText}" once all calls are in: ${ms(since('allRead'))}; its first appearance ${ms(since('bigRow'))}; tree rows listed then: ${(await mainCounts(raw)).allRead ?? '?'}; `
    + `${showsProgress ? `the view's progress bar ${sawProgress ? `ran ${runs} time(s), first from ${ms(since('progressOn'))}, last ending at ${ms(since('progressOff'))}` : 'never ran'}` : 'the build shows no reading progress: all calls read = the row\'s text'})`);
  if (!read && !sawProgress) note(`${p}the ${TURNS}-turn session's row never read "${assembled.rowText}" within 600 s`);
  recordLoop(`during ${reopen ? 'reopen' : 'cold open'} (click → all read)`, delay, p);

  console.log(`\n[2${reopen ? 'r' : ''}b] first paint of the ${TURNS}-turn session (history, capture stopped${reopen ? ', reopened' : ''})`);
  const row = page.locator(SIDEBAR_ROW).filter({ hasText: BIG_TITLE }).first() as HoverLocator;
  await arm(raw, 'tab', '.tabs-container .tab', 'Benchmark: refactor');
  const open = row.locator('.action-label[aria-label="Open Session"]').first();
  // The row's inline action shows while the pointer is over the row; a row that moves or is drawn
  // again under the pointer hides it, so hover and click are tried again (the click is stamped in the page).
  let clickWall = 0;
  let attempts = 0;
  for (const deadline = Date.now() + 90_000; ; attempts++) {
    try {
      await row.hover({ timeout: 5_000 });
      await probe.reset();
      clickWall = performance.now();
      await open.click({ timeout: 3_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
  if (attempts > 0) note(`${p}the row's Open Session action took ${attempts + 1} hover-and-click attempts (the row moved or was redrawn under the pointer)`);
  const turn = raw.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('.turns .turn').first();
  await turn.waitFor({ state: 'visible', timeout: 120_000 });
  const polledMs = performance.now() - clickWall;
  const paintDelay = await probe.read();
  await page.waitForTimeout(2_000);
  const marks = await mainMarks(raw);
  const wv = await webviewBench(raw);
  if (wv && marks.click) {
    record(`${p}open session: click → editor tab shown (ms)`, marks.tab !== undefined ? marks.tab - marks.click : undefined, ms(marks.tab !== undefined ? marks.tab - marks.click : undefined));
    record(`${p}open session: click → title set (webview h1) (ms)`, wv.marks.title - marks.click, ms(wv.marks.title - marks.click));
    record(`${p}open session: click → first turn in the DOM (ms)`, wv.marks.turnDom - marks.click, ms(wv.marks.turnDom - marks.click));
    record(`${p}open session: click → first turn painted (ms)`, wv.marks.turnPaint - marks.click, `${ms(wv.marks.turnPaint - marks.click)}${wv.firstTurnVisible ? '' : ' (NOT in viewport)'}`);
    const fromTab = marks.tab !== undefined ? wv.marks.turnPaint - marks.tab : undefined;
    record(`${p}open session: editor tab shown → first turn painted (ms)`, fromTab, ms(fromTab));
    const after2s = await raw.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('.turns .turn').count();
    console.log(`    turns rendered at first paint / after 2 s: ${wv.turnsAtPaint} / ${after2s} (of ${assembled.turns})`);
    // Where the time went inside the webview, from the click: each frame's start, then its loads.
    const at = (t: number) => `+${(t - marks.click!).toFixed(0)}`;
    console.log(`    webview frames began at ${(wv.frameOrigins ?? []).filter((t) => t > marks.click!).map(at).join(', ') || '?'} ms; loads: ${(wv.loads ?? []).map((l) => `${l.name} ${at(l.start)}→${at(l.end)}`).join(', ') || 'none seen'}`);
    const own = ['script', 'ready', 'session', 'drawn'].filter((k) => wv.marks[k] !== undefined);
    if (own.length > 0) console.log(`    the page's own marks: ${own.map((k) => `${k} ${at(wv.marks[k]!)}`).join(', ')} ms`);
  } else {
    if (process.env.BENCH_DEBUG) await dumpFrames(raw);
    note(`${p}the in-page stamps were not available in the webview frame; the first-turn time is Playwright polling from the bench process`);
  }
  record(`${p}open session: click → first turn visible, Playwright polled (ms)`, polledMs, ms(polledMs));
  record(`${p}loop delay during open session (click → turn visible): max ms`, paintDelay.max, fmt(paintDelay.max, 1));
  await wb.screenshot(`conversation-${current}${reopen ? '-reopen' : ''}`).catch(() => undefined);
  if (!reopen && seeded.sessions > 1) await switchSessions(o, p);
  await wb.runCommand('View: Close All Editors');
  await blankWebviewPaint(o, p);
}

/**
 * VS Code's own floor for a first paint, in the same window: the host probe's blank webview (a
 * heading and one turn, the panel options ours has, nothing fetched or asked for), opened from the
 * command palette (Enter stamped), its turn painted as ours is stamped.
 */
async function blankWebviewPaint(o: OpenedWorkbench, p: string): Promise<void> {
  const { raw, wb } = o;
  const input = await wb.openCommand('LLM Capture Bench: Open Blank Webview');
  await arm(raw, 'tab', '.tabs-container .tab', 'Blank webview');
  await input.press('Enter');
  const turn = raw.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('.turns .turn').first();
  await turn.waitFor({ state: 'visible', timeout: 60_000 });
  await o.page.waitForTimeout(500);
  const { enter, tab } = await mainMarks(raw);
  const wv = await webviewBench(raw);
  if (wv && enter !== undefined && (wv.title ?? '').includes('Blank webview')) {
    record(`${p}VS Code's floor: blank webview, Enter → its turn painted (ms)`, wv.marks.turnPaint - enter, ms(wv.marks.turnPaint - enter));
    // From its tab on, so that how the panel was asked for (a palette's Enter, a tree row's click) drops out.
    const fromTab = tab !== undefined ? wv.marks.turnPaint - tab : undefined;
    record(`${p}VS Code's floor: blank webview, editor tab shown → its turn painted (ms)`, fromTab, ms(fromTab));
    const at = (t: number) => `+${(t - enter).toFixed(0)}`;
    const script = wv.marks.script !== undefined ? `; its script ran at ${at(wv.marks.script)} ms` : '';
    console.log(`    webview frames began at ${(wv.frameOrigins ?? []).filter((t) => t > enter).map(at).join(', ') || '?'} ms${script}`);
  } else {
    note(`${p}the blank webview's stamps were not found; no floor measured`);
  }
  await wb.runCommand('View: Close All Editors');
}

/**
 * With the big session's conversation on screen: another session opened from its row, then the big
 * one again. A build with a preview panel (decision 67) shows each in the page that is up; an older
 * one opens a panel, then reveals the big session's panel again (its page rebuilt).
 */
async function switchSessions(o: OpenedWorkbench, p: string): Promise<void> {
  const { raw, page } = o;
  for (const [title, label] of [['Seeded session', 'another session'], [BIG_TITLE, `the ${TURNS}-turn session again`]] as const) {
    const row = page.locator(SIDEBAR_ROW).filter({ hasText: title }).first() as HoverLocator;
    await armSwitch(raw, title);
    let clickWall = 0;
    for (const deadline = Date.now() + 60_000; ;) {
      try {
        await row.hover({ timeout: 5_000 });
        clickWall = performance.now();
        await row.locator('.action-label[aria-label="Open Session"]').first().click({ timeout: 3_000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
    const click = (await mainMarks(raw)).click!;
    let painted: number | undefined;
    for (const end = Date.now() + 60_000; painted === undefined && Date.now() < end; await page.waitForTimeout(50)) painted = await switchPaint(raw, title, click);
    record(`${p}switch to ${label}: click → first turn painted (ms)`, painted !== undefined ? painted - click : undefined, ms(painted !== undefined ? painted - click : undefined));
    if (painted === undefined) note(`${p}no turn of "${title}" painted within 60 s of the click (${(performance.now() - clickWall).toFixed(0)} ms polled)`);
    await page.waitForTimeout(1_000);
  }
}

/** Palette Enter → the "listening on" toast; returns the proxy URL. */
async function startCapture(o: OpenedWorkbench, sandbox: Sandbox, label: string): Promise<string> {
  const { raw, wb } = o;
  await wb.clearToasts();
  const input = await wb.openCommand('LLM Capture: Start Capture');
  await arm(raw, 'toast', '.notifications-toasts .notification-toast', 'LLM Capture is listening on');
  await input.press('Enter');
  const text = await wb.waitForToast(/LLM Capture is listening on/, 60_000);
  const m = await mainMarks(raw);
  const startedLines = logTimes(findLog(sandbox, /LLM Capture\.log$/), /capture started on/);
  const internal = startedLines.length > 0 ? startedLines[startedLines.length - 1]! - m.enter! : undefined;
  record(`Start Capture (${label}) → toast (ms)`, m.toast! - m.enter!, ms(m.toast! - m.enter!));
  console.log(`    (Enter → "capture started" in the extension's log: ${ms(internal)}, log has ms resolution)`);
  return /listening on (http:\/\/[^\s;]+)/.exec(text)![1]!;
}

/** One conversation growing call by call with its panel open (bench/extension-bench/live-panel.ts). */
async function livePhase(o: OpenedWorkbench, server: RunningServer, proxyUrl: string, dataDir: string, s: Shared, probe: Probe): Promise<void> {
  console.log(`\n[3b] a live conversation on screen: ${LIVE_CALLS} calls, one every ${LIVE_INTERVAL_MS} ms at most, each re-sending the history${LIVE_STREAM_MS > 0 ? `, each answer streaming over ${LIVE_STREAM_MS} ms` : ''}`);
  const pid = extensionHostPid(server.pid);
  if (pid === undefined) throw new Error('no process with --type=extensionHost under the server');
  const caPem = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
  let cpuFrom = 0;
  const r = await liveConversation(o, proxyUrl, caPem, s.pool, 443, LIVE_CALLS, LIVE_INTERVAL_MS, async () => {
    await probe.reset();
    cpuFrom = mainThreadCpuMs(pid);
  }, LIVE_STREAM_MS);
  const delay = await probe.read();
  const cpu = mainThreadCpuMs(pid) - cpuFrom;
  const later = r.calls - 1;
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  record('live: call ends → the page counts its turn, p50 (ms)', pct(0.5), ms(pct(0.5)));
  record('live: call ends → the page counts its turn, p95 (ms)', pct(0.95), ms(pct(0.95)));
  record('live: call ends → the page counts its turn, max (ms)', sorted[sorted.length - 1], ms(sorted[sorted.length - 1]));
  record('live: sent to the page per call (KB)', r.messages.bytes / later / 1024, fmt(r.messages.bytes / later / 1024, 1));
  record('live: main thread CPU per call (ms)', cpu / later, fmt(cpu / later, 2));
  recordLoop('during the live conversation', delay, 'live: ');
  console.log(`    ${later} calls in ${(r.ms / 1000).toFixed(1)} s after the page opened; the page counted ${r.shown} turns, ${r.latencies.length} stamped; `
    + `${r.messages.count} messages, ${(r.messages.bytes / 1024 / 1024).toFixed(1)} MB (${Object.entries(r.messages.types).map(([t, v]) => `${t} ${v.count} × ${(v.bytes / v.count / 1024).toFixed(1)} KB`).join(', ')}); `
    + `the last whole model sent ${r.modelBytes !== undefined ? `${(r.modelBytes / 1024).toFixed(0)} KB` : 'not sent'}`);
  if (r.shown < r.calls) note(`the live page counted ${r.shown} of ${r.calls} turns within 60 s of the last call`);
  await o.wb.runCommand('View: Close All Editors');
}

async function traffic(o: OpenedWorkbench, server: RunningServer, proxyUrl: string, dataDir: string, s: Shared, probe: Probe): Promise<void> {
  const { page } = o;
  console.log(`\n[4] extension host across ${GIB} GiB of traffic`);
  const pid = extensionHostPid(server.pid);
  if (pid === undefined) throw new Error('no process with --type=extensionHost under the server');
  if (probe.pid !== pid) note(`the probe runs in pid ${probe.pid}, the extension host is pid ${pid}`);
  await page.waitForTimeout(3_000);
  const before = procStatus(pid);
  const beforeSmaps = smapsSummary(pid);
  await probe.reset();
  await page.waitForTimeout(IDLE_MS);
  recordLoop(`idle, capturing (${IDLE_MS / 1000} s)`, await probe.read());
  // --gb=0: the figures before the traffic only.
  if (GIB <= 0) return;
  const diskBefore = diskBytes(dataDir);
  const caPem = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
  let peak = before.rss;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(pid).rss);
    } catch {
      // gone
    }
  }, 500);
  const cpuBefore = cpuMs(pid);
  const mainBefore = mainThreadCpuMs(pid);
  const schedBefore = mainThreadSched(pid);
  if (PROFILE_MAIN) await probe.startProfile();
  await probe.reset();
  const pushedFrom = Date.now();
  const pushed = await pushTraffic(proxyUrl, caPem, s.pool, 443, GIB * 1024 * MB, PUSH_BUDGET_MS, RATE);
  const delay = await probe.read();
  if (PROFILE_MAIN) {
    const file = profileFile('');
    await probe.stopProfile(file).then(() => console.log(`    main thread CPU profile: ${file}`), (e: Error) => note(`no main-thread profile: ${e.message}`));
  }
  clearInterval(sampler);
  const after = procStatus(pid);
  const cpuPush = cpuMs(pid) - cpuBefore;
  const mainPush = mainThreadCpuMs(pid) - mainBefore;
  const schedAfter = mainThreadSched(pid);
  const diskAfter = diskBytes(dataDir);
  await page.waitForTimeout(10_000);
  const idle = procStatus(pid);
  const idleSmaps = smapsSummary(pid);
  const diskIdle = diskBytes(dataDir);
  const total = pushed.requestBytes + pushed.responseBytes;
  const secs = pushed.ms / 1000;
  record('traffic: MB pushed (requests + SSE)', total / MB, `${mb(total)}${pushed.complete ? '' : ' (budget)'}`);
  record('traffic: MB/s', total / MB / secs, fmt(total / MB / secs, 1));
  record('traffic: exchanges/s', pushed.exchanges / secs, fmt(pushed.exchanges / secs, 2));
  console.log(`    ${pushed.exchanges} exchanges, ${mb(pushed.requestBytes)} requests + ${mb(pushed.responseBytes)} SSE responses in ${secs.toFixed(1)} s${pushed.errors ? `, ${pushed.errors} failed (${pushed.firstError})` : ''}`);
  if (pushed.errors) note(`${pushed.errors} requests failed during the traffic phase, first: ${pushed.firstError}`);
  recordLoop('during traffic', delay);
  record('loop: main thread busy during traffic (%)', 100 * delay.utilization, fmt(100 * delay.utilization, 0));
  record('host CPU while pushing, all threads (ms per MB)', cpuPush / (total / MB), fmt(cpuPush / (total / MB), 1));
  record('host CPU while pushing, main thread (ms per MB)', mainPush / (total / MB), fmt(mainPush / (total / MB), 1));
  const waitMs = (schedAfter.waitNs - schedBefore.waitNs) / 1e6;
  record('host main thread waiting for a core during traffic (ms)', waitMs, `${ms(waitMs)} (${(100 * waitMs / pushed.ms).toFixed(0)}% of the phase)`);
  record('host RSS after Start Capture (MB)', before.rss / MB, mb(before.rss));
  record('host RSS right after the traffic (MB)', after.rss / MB, mb(after.rss));
  record('host RSS after 10 s idle (MB)', idle.rss / MB, mb(idle.rss));
  record('host RSS: after traffic − after Start (MB)', (after.rss - before.rss) / MB, mb(after.rss - before.rss));
  record('host RSS: peak (0.5 s samples) (MB)', peak / MB, mb(peak));
  record('host RSS: VmHWM (MB)', idle.hwm / MB, mb(idle.hwm));
  console.log(`    host resident after idle, by mapping (bench/smaps.ts): before the traffic ${formatSmaps(beforeSmaps)}; after ${formatSmaps(idleSmaps)}`);
  console.log(`    store on disk: before / right after / after 10 s idle: ${mb(diskBefore)} / ${mb(diskAfter)} / ${mb(diskIdle)}`);
  record('store on disk after the traffic (MB)', diskIdle / MB, mb(diskIdle));
  const kept = await bodiesKept(dataDir, pushedFrom).catch((e: Error) => note(`could not read the store after the traffic: ${e.message}`));
  if (kept) record('traffic: exchanges stored without their bodies (capture behind)', kept.withoutBodies, `${kept.withoutBodies} of ${kept.exchanges}`);
  if (!pushed.complete) note(`the traffic phase stopped at its ${PUSH_BUDGET_MS / 1000} s budget with ${mb(total)} of ${GIB} GiB pushed`);
}

/**
 * The exchanges stored since `since`, and how many of them capture kept without their bodies because it fell
 * behind the traffic (docs/decisions.md, decision 38): the figures above are those of what was captured.
 */
async function bodiesKept(dataDir: string, since: number): Promise<{ exchanges: number; withoutBodies: number }> {
  const { CaptureStore } = await import('../src/store');
  const reader = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    let exchanges = 0;
    let withoutBodies = 0;
    for (let before: number | undefined; ;) {
      const page = reader.listExchanges({ limit: 1000, before });
      for (const e of page.items) {
        if (e.startedAt < since) continue;
        exchanges++;
        if (e.errors.some((m) => m.startsWith('capture fell behind'))) withoutBodies++;
      }
      if (page.next === undefined) break;
      before = page.next;
    }
    return { exchanges, withoutBodies };
  } finally {
    await reader.close();
  }
}

interface OwnActivation { ms?: number; text: string }

/** This extension's id (publisher.name), whose activation marks the probe reads. */
const EXTENSION_ID = (() => {
  const p = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${p.publisher}.${p.name}`;
})();

/**
 * LLM Capture's own share of the activation VS Code reports: its code's loading and its activate()
 * until what it returned resolved, from VS Code's marks, and the other extensions of its batch
 * whose code loading that report counts too (see activationMarks in bench/host-probe/extension.js).
 */
async function ownActivation(probe: Probe, reported: number): Promise<OwnActivation> {
  const m = await probe.activationMarks(EXTENSION_ID).catch(() => ({ found: false as const }));
  if (!m.found) return { text: 'no activation marks' };
  // Only loading that began inside the reported figure's window (marks and figure are whole ms).
  const window = reported - m.codeMs - m.activateMs + 1;
  const batch = m.sameBatch.filter((b) => b.startedBefore <= window).map((b) => `${b.id.replace(/^vscode\./, '')} ${b.codeMs}`).join(', ');
  return {
    ms: m.codeMs + m.activateMs,
    text: `own: code ${m.codeMs} + activate ${m.activateMs} ms${batch ? `; also counted, loaded in its batch: ${batch} ms` : ''}`,
  };
}

/** The first start of a build: activation, cold open, reopen (a second server on the same data), Start Capture twice, traffic. Returns where its CA was copied. */
async function mainStart(build: Build, s: Shared): Promise<{ activation?: number; own?: OwnActivation; caDir?: string }> {
  const sandbox = sandboxFor(build, {
    ...(NO_PORT_SCAN ? NO_PORT_SCAN_SETTINGS : {}),
    'llmCapture.upstreamCaFiles': [s.pki.caCertPath],
    'llmCapture.mapHosts': { [`${FAKE_HOST}:443`]: `127.0.0.1:${s.sinkPort}` },
  });
  const dataDir = globalStorage(sandbox, build);
  cpSync(s.seedDirs.get(build.label) ?? s.seedDir, dataDir, { recursive: true });
  if (PROFILE_MAIN) sandbox.env.LLM_CAPTURE_BENCH_STARTUP_PROFILE = profileFile('startup-');
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const out: { activation?: number; own?: OwnActivation; caDir?: string } = {};
  try {
    console.log(`\n[1] activation (start 1)`);
    server = await startCodeServerIn(sandbox);
    let o = await openWorkbench(server, `extension-bench-${build.label}`);
    browser = o.browser;
    let probe = await Probe.find(sandbox);
    if (!probe.isMainThread) note('the probe does not run on a main thread');
    out.activation = await activationMs(o.wb);
    out.own = await ownActivation(probe, out.activation);
    console.log(`  workbench ready in ${ms(o.loadMs)}, activation ${out.activation} ms (${out.own.text}); probe in pid ${probe.pid}`);
    // The workbench settles a few seconds after it shows; the baseline is taken after that.
    await o.page.waitForTimeout(5_000);
    await probe.reset();
    await o.page.waitForTimeout(IDLE_MS);
    recordLoop(`idle, capture stopped (${IDLE_MS / 1000} s)`, await probe.read());

    await coldOpen(o, s, probe, build).catch((e: Error) => note(`cold open failed: ${e.message}`));

    // The same data directory in a new server and window: derived/ is there if the build writes it.
    const index = join(dataDir, 'derived', 'index.json.gz');
    if (distHas(build, 'index.json.gz')) {
      const t0 = performance.now();
      while (!existsSync(index) && performance.now() - t0 < 60_000) await o.page.waitForTimeout(250);
      console.log(`\n  ${existsSync(index) ? `derived/index.json.gz there ${ms(performance.now() - t0)} after the cold open's last step` : 'no derived/index.json.gz within 60 s'}; closing the window and the server`);
      if (!existsSync(index)) note('the build writes derived/, but derived/index.json.gz was not there 60 s after the cold open');
    }
    await browser.close();
    browser = undefined;
    await server.stop({ keep: true });
    server = undefined;
    rmSync(join(sandbox.root, 'probe.json'), { force: true });
    server = await startCodeServerIn(sandbox);
    o = await openWorkbench(server, `extension-bench-${build.label}-reopen`);
    browser = o.browser;
    probe = await Probe.find(sandbox);
    const reopenActivation = await activationMs(o.wb);
    console.log(`  reopened: workbench ready in ${ms(o.loadMs)}, activation ${reopenActivation} ms (${(await ownActivation(probe, reopenActivation)).text}); derived/ ${existsSync(index) ? `${mb(diskBytes(join(dataDir, 'derived')))}` : 'absent'}; probe in pid ${probe.pid}`);
    await o.page.waitForTimeout(5_000);
    await coldOpen(o, s, probe, build, true).catch((e: Error) => note(`reopen failed: ${e.message}`));

    console.log('\n[3] Start Capture → toast');
    await startCapture(o, sandbox, 'no CA yet: creates it');
    await o.wb.runCommand('LLM Capture: Stop Capture');
    await o.wb.waitForToast(/LLM Capture stopped/, 30_000);
    await probe.reset();
    const proxyUrl = await startCapture(o, sandbox, 'CA present');
    const startDelay = await probe.read();
    record('loop delay during Start Capture (CA present): max ms', startDelay.max, fmt(startDelay.max, 1));
    out.caDir = mkdtempSync(join(tmpdir(), 'llm-capture-bench-ca-'));
    copyCa(dataDir, out.caDir);

    if (LIVE_CALLS > 1) await livePhase(o, server, proxyUrl, dataDir, s, probe).catch((e: Error) => note(`live conversation phase failed: ${e.message}`));
    await traffic(o, server, proxyUrl, dataDir, s, probe).catch((e: Error) => note(`traffic phase failed: ${e.message}`));
  } catch (e) {
    note(`the run of ${build.label} stopped: ${(e as Error).message}`);
  } finally {
    const problems = logProblems(sandbox);
    if (problems.length > 0) note(`${problems.length} error/warning line(s) in the logs, first: ${problems.slice(0, 5).join(' | ')}`);
    await browser?.close();
    await server?.stop();
    if (!server) rmSync(sandbox.root, { recursive: true, force: true });
  }
  return out;
}

/** A further start in a fresh sandbox, nothing captured but the CA present: activation, then Start Capture. */
async function freshStart(build: Build, caDir: string | undefined, i: number): Promise<{ activation?: number; own?: OwnActivation; start?: number; delayMax?: number }> {
  const sandbox = sandboxFor(build, NO_PORT_SCAN ? NO_PORT_SCAN_SETTINGS : {});
  if (caDir) copyCa(caDir, globalStorage(sandbox, build));
  const server = await startCodeServerIn(sandbox);
  try {
    const o = await openWorkbench(server, `extension-bench-${build.label}-${i}`);
    try {
      const probe = await Probe.find(sandbox);
      const activation = await activationMs(o.wb);
      const own = await ownActivation(probe, activation);
      await probe.reset();
      await o.wb.clearToasts();
      const input = await o.wb.openCommand('LLM Capture: Start Capture');
      await arm(o.raw, 'toast', '.notifications-toasts .notification-toast', 'LLM Capture is listening on');
      await input.press('Enter');
      await o.wb.waitForToast(/LLM Capture is listening on/, 60_000);
      const delay = await probe.read();
      const m = await mainMarks(o.raw);
      console.log(`  ${build.label} start ${i}: workbench ready in ${ms(o.loadMs)}, activation ${activation} ms (${own.text}), Start Capture (fresh window, CA present) ${ms(m.toast! - m.enter!)}, loop delay max meanwhile ${delay.max.toFixed(1)} ms`);
      if (process.env.BENCH_DEBUG) for (const line of logLines(findLog(sandbox, /LLM Capture\.log$/), /./).slice(-25)) console.log(`    log: ${line.slice(11, 200)}`);
      const problems = logProblems(sandbox);
      if (problems.length > 0) note(`start ${i}: ${problems.length} error/warning line(s) in the logs, first: ${problems.slice(0, 3).join(' | ')}`);
      return { activation, own, start: m.toast! - m.enter!, delayMax: delay.max };
    } finally {
      await o.browser.close();
    }
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const gate = vscodeGate();
  if (gate.skip) {
    console.error(`extension-bench: ${gate.skip}`);
    process.exit(2);
  }
  const started = performance.now();
  const extensions = argList('extension');
  const before = argValue('before');
  const after = argValue('after') ?? REPO_ROOT;
  const builds = extensions.length > 0
    ? extensions.map((dir, i) => snapshotBuild(`#${i + 1}`, dir))
    : [...(before ? [snapshotBuild('before', before)] : []), snapshotBuild(before ? 'after' : 'dist', after)];
  for (const b of builds) if (b.label.startsWith('#')) Object.assign(b, { label: `${b.label} ${b.commit}` });
  console.log(`extension bench: code-server 4.139.1, ${builds.length} build(s), ${STARTS} server start(s) each, ${CALLS} stored calls (a ${TURNS}-turn session and older ones), ${GIB} GiB of traffic; load average at start ${load()}`);
  for (const b of builds) console.log(`  ${b.label}: ${b.source} at ${b.commit}, extension.js ${(b.extensionJsBytes / 1024).toFixed(0)} KB`);

  const pki = createTestPki();
  const pool = new TextGenerator(seededRandom(11)).prose(4 * MB);
  const sink = await startSink(pki, pool, 300 * 1024);
  const seedDir = mkdtempSync(join(tmpdir(), 'llm-capture-bench-seed-'));
  const seedDirs = new Map<string, string>();
  const activations = new Map<string, number[]>();
  const ownActivations = new Map<string, number[]>();
  const freshStarts = new Map<string, number[]>();
  const freshDelays = new Map<string, number[]>();
  try {
    console.log(`\n[prepare] writing ${CALLS} calls into a store, copied into each build's sandbox`);
    const seeded = await seedStore(seedDir, CALLS, TURNS, undefined, HISTORY_AGE_MS);
    const assembled = await assembleSession(seedDir, seeded.sessionId);
    console.log(`  ${seeded.calls} calls in ${assembled.sessions} sessions, ${mb(seeded.rawBytes)} raw (largest request ${(seeded.largestRequest / 1024).toFixed(0)} KB), store ${mb(diskBytes(seedDir))} on disk; written in ${ms(seeded.ms)}, read back and assembled by the bench (Node ${process.versions.node}) in ${ms(assembled.ms)}: ${assembled.turns} turns in the big session`);
    for (const build of builds) {
      const theirs = join(build.source, 'src', 'store', 'index.ts');
      if (!existsSync(theirs)) continue;
      const m = (await import(theirs)) as { CaptureStore: typeof CaptureStore; SCHEMA_VERSION: number };
      if (m.SCHEMA_VERSION === SCHEMA_VERSION) continue;
      const dir = mkdtempSync(join(tmpdir(), 'llm-capture-bench-seed-'));
      const own = await seedStore(dir, CALLS, TURNS, m.CaptureStore, HISTORY_AGE_MS);
      seedDirs.set(build.label, dir);
      console.log(`  ${build.label}: its store has schema ${m.SCHEMA_VERSION} (this checkout's: ${SCHEMA_VERSION}), so the same ${own.calls} calls were written again by its own CaptureStore: ${mb(diskBytes(dir))} on disk`);
    }
    const shared: Shared = { pki, pool, sinkPort: sink.port, seedDir, seedDirs, seeded, assembled };

    const caDirs = new Map<string, string | undefined>();
    for (const build of builds) {
      current = build.label;
      console.log(`\n======== ${build.label}: ${build.commit} (${build.source}); load average ${load()}`);
      const r = await mainStart(build, shared);
      activations.set(build.label, r.activation !== undefined ? [r.activation] : []);
      ownActivations.set(build.label, r.own?.ms !== undefined ? [r.own.ms] : []);
      caDirs.set(build.label, r.caDir);
    }
    // Further starts alternate between the builds, so that a slow spell of the machine lands on both.
    for (let i = 2; i <= STARTS; i++) {
      console.log(`\n[1] activation and Start Capture in a fresh window (start ${i})`);
      for (const build of builds) {
        current = build.label;
        try {
          const r = await freshStart(build, caDirs.get(build.label), i);
          if (r.activation !== undefined) activations.get(build.label)!.push(r.activation);
          if (r.own?.ms !== undefined) ownActivations.get(build.label)!.push(r.own.ms);
          if (r.start !== undefined) freshStarts.set(build.label, [...(freshStarts.get(build.label) ?? []), r.start]);
          if (r.delayMax !== undefined) freshDelays.set(build.label, [...(freshDelays.get(build.label) ?? []), r.delayMax]);
        } catch (e) {
          note(`start ${i} failed: ${(e as Error).message}`);
        }
      }
    }
    for (const build of builds) {
      current = build.label;
      const a = activations.get(build.label) ?? [];
      record(ACTIVATION, median(a), `${median(a)} ms`);
      const own = ownActivations.get(build.label) ?? [];
      record(OWN_ACTIVATION, median(own), ms(median(own)));
      console.log(`    (each: ${a.join(', ')} ms)`);
      if (STARTS > 1) {
        record(FRESH_START, median(freshStarts.get(build.label) ?? []), ms(median(freshStarts.get(build.label) ?? [])));
        record('loop delay during that Start Capture: max ms (median)', median(freshDelays.get(build.label) ?? []), fmt(median(freshDelays.get(build.label) ?? []), 1));
      }
      record(EXTENSION_JS, build.extensionJsBytes / 1024, `${(build.extensionJsBytes / 1024).toFixed(0)} KB`);
      const ca = caDirs.get(build.label);
      if (ca) rmSync(ca, { recursive: true, force: true });
    }
  } finally {
    await sink.close();
    rmSync(pki.dir, { recursive: true, force: true });
    rmSync(seedDir, { recursive: true, force: true });
    for (const dir of seedDirs.values()) rmSync(dir, { recursive: true, force: true });
    for (const b of builds) rmSync(b.dir, { recursive: true, force: true });
  }

  console.log(`\nLLM Capture in code-server 4.139.1 (VS Code 1.139.1), ${new Date().toISOString()}; load average at end ${load()}`);
  console.log(`  ${builds.map((b) => `${b.label} = ${b.commit} (${b.source})`).join('; ')}; loop delays are in ms past the probe's 10 ms timer`);
  printTable(builds);
  for (const n of notes) console.log(`  note: ${n}`);
  console.log(`  (whole run ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
