// The conversation webview's own part of the first paint, without VS Code: dist/webview of each
// build loaded in Debian's chromium (headless, as the UI tests drive it) from a page that stands in
// for VS Code's webview (acquireVsCodeApi, the theme's variables unset), the session's view model
// posted as the host posts it, and the time from that message to the first frame that shows its turns
// (laid out, inside that frame's animation callback: what paints next).
// Builds alternate page load by page load. Prints figures, asserts nothing.
//   npx tsx bench/webview-paint-bench.ts --turns=500 --samples=10 --dist=/tmp/before/dist --dist=dist
// The model is the one the engine builds for a seeded TURNS-turn Claude Code session
// (bench/extension-bench/seed.ts), made once per run.
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { CaptureEngine } from '../src/engine/capture-engine';
import type { EngineEvent } from '../src/engine/protocol';
import type { ConversationViewModel } from '../src/shared/conversation-view-model';
import { launchBrowser } from '../test/vscode/workbench';
import type { BenchPage } from './extension-bench/page';
import { seedStore } from './extension-bench/seed';

const argValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const TURNS = Number(argValue('turns') ?? 500);
const SAMPLES = Number(argValue('samples') ?? 10);
const dists = process.argv.filter((a) => a.startsWith('--dist=')).map((a) => resolve(a.slice('--dist='.length)));
if (dists.length === 0) dists.push(resolve('dist'));

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };

/** The page VS Code would write into the webview's frame, with its API stood in for. */
const PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<link rel="stylesheet" href="codicon.css" id="vscode-codicon-stylesheet"><link rel="stylesheet" href="style.css">
<script>window.acquireVsCodeApi = () => ({ postMessage(m) { if (m.type === 'ready') window.__ready = performance.now(); }, getState() {}, setState() {} });</script>
</head><body><div id="root"></div><script src="main.js"></script></body></html>`;

/** Serves /<build index>/<file> from each build's dist/webview, and the page. */
function serve(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const [, build, file] = /^\/(\d+)\/([\w.-]+)$/.exec(req.url ?? '') ?? [];
    const dir = build !== undefined ? dists[Number(build)] : undefined;
    if (!dir || !file) return void res.writeHead(404).end();
    if (file === 'index.html') return void res.writeHead(200, { 'content-type': TYPES['.html'] }).end(PAGE);
    const path = join(dir, 'webview', file);
    if (!existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as { port: number }).port })));
}

async function buildModel(dir: string): Promise<ConversationViewModel> {
  const seeded = await seedStore(dir, TURNS, TURNS);
  const events: EngineEvent[] = [];
  const engine = new CaptureEngine((e) => events.push(e));
  await engine.handlers['history.want']({ dataDir: dir });
  for (const end = Date.now() + 600_000; Date.now() < end;) {
    if (events.some((e) => e.type === 'progress' && e.done === e.total)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const built = await engine.handlers['conversation.model']({ sessionId: seeded.sessionId });
  // Read whole before the engine closes: its long texts are read from its spill file (decision 83).
  const model = built ? JSON.parse(JSON.stringify(built)) as ConversationViewModel : undefined;
  await engine.dispose();
  if (!model) throw new Error('the seeded session was not assembled');
  return model;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] ?? NaN;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-webview-bench-'));
  const { server, port } = await serve();
  const browser = await launchBrowser();
  try {
    const model = await buildModel(dataDir);
    const json = JSON.stringify(model);
    console.log(`webview paint bench: a ${model.threads[0]?.turns.length ?? 0}-turn session, model ${(json.length / 1e6).toFixed(2)} MB of JSON; ${SAMPLES} loads per build, alternating`);
    const figures = dists.map(() => ({ handled: [] as number[], painted: [] as number[], chart: [] as number[], turns: 0 }));
    for (let i = 0; i < SAMPLES + 1; i++) {
      for (let b = 0; b < dists.length; b++) {
        const page = browser.page as unknown as BenchPage & { goto(url: string): Promise<unknown>; waitForFunction(expression: string): Promise<unknown> };
        await page.goto(`http://127.0.0.1:${port}/${b}/index.html`);
        await page.waitForFunction('window.__ready !== undefined');
        // The message as the host's postMessage delivers it, then the first frame after it.
        const r = await page.evaluate(`(async () => {
          const model = ${json};
          const t0 = performance.now();
          window.dispatchEvent(new MessageEvent('message', { data: { type: 'session', model } }));
          const t1 = performance.now();
          // The frame that shows the turns, laid out (forced here; its paint follows at once). Stamped inside
          // that frame: a later task would also count the work the page defers past its first frame.
          const painted = await new Promise((r) => requestAnimationFrame(() => {
            void document.querySelector('.turns .turn')?.getBoundingClientRect();
            r(performance.now() - t0);
          }));
          // The context chart (decision 69) is drawn after that frame; a build without it never shows one.
          const chart = await new Promise((r) => {
            // Stamped by the page once the chart is in it (the tabs drawn after the first frame may run before this check).
            const stamped = () => performance.getEntriesByName('llm-capture:chart').filter((e) => e.startTime >= t0).pop();
            const check = () => document.querySelector('.context-chart svg') && stamped() ? r(stamped().startTime - t0) : performance.now() - t0 > 2000 ? r(-1) : setTimeout(check, 1);
            check();
          });
          return { handled: t1 - t0, painted, chart, turns: document.querySelectorAll('.turns .turn').length };
        })()`) as { handled: number; painted: number; chart: number; turns: number };
        if (i === 0) continue; // warm-up: the first load of each build compiles its code
        figures[b]!.handled.push(r.handled);
        figures[b]!.painted.push(r.painted);
        if (r.chart >= 0) figures[b]!.chart.push(r.chart);
        figures[b]!.turns = r.turns;
      }
    }
    for (let b = 0; b < dists.length; b++) {
      const f = figures[b]!;
      console.log(`  build ${b + 1} (${dists[b]}): message handled ${median(f.handled).toFixed(0)} ms, first frame painted ${median(f.painted).toFixed(0)} ms (median; fastest ${Math.min(...f.painted).toFixed(0)} ms); ${f.turns} turns in the DOM${f.chart.length > 0 ? `; context chart drawn ${median(f.chart).toFixed(0)} ms` : ''}`);
    }
  } finally {
    await browser.close();
    server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
