// The engine's own part of Start Capture and of reopening the Sessions view, without VS Code:
// builds given as dist/ directories, their engine threads started as the extension starts them
// (Node's compile cache in a directory of each build's own), the builds alternating sample by
// sample so that both see the same machine. Prints figures, asserts nothing.
//   npx tsx bench/engine-start-bench.ts --calls=5000 --samples=8 --dist=/tmp/before/dist --dist=dist
// Per sample, one new engine thread:
//   reopen: the thread started → `history.want` → the stored sessions shown (derived/ current);
//   Start, CA present, 1.5 s after the sessions were shown (a build that keeps a proxy thread
//   booted while capture is stopped has one by then); Stop, and Start again 0.5 s later;
//   fresh Start: a new thread whose first request is `capture.start`, with the build's compile cache
//   and with an empty one (a new install or version, or a new sandbox of extension-bench).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { DEFAULT_SETTINGS } from '../src/app/capture-settings';
import { seedStore } from './extension-bench/seed';

const argValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const dists = process.argv.filter((a) => a.startsWith('--dist=')).map((a) => resolve(a.slice('--dist='.length)));
const CALLS = Number(argValue('calls') ?? 5000);
const SAMPLES = Number(argValue('samples') ?? 8);
const IDLE_MS = 1500;
/** A quick Stop and Start, as a user restarting capture makes them. */
const AFTER_STOP_MS = 500;
if (dists.length === 0) dists.push(resolve('dist'));

interface Message { type: string; id?: number; ok?: boolean; result?: unknown; error?: { message: string }; event?: { type: string; sessions?: unknown[] } }

/** One engine thread of a build, spoken to as src/engine/engine-client.ts does (by message shape only, so any build can be driven). */
class Engine {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Message) => void>();
  private readonly listeners = new Set<(m: Message) => void>();
  readonly ready: Promise<number>;

  constructor(dist: string, cacheDir: string) {
    const t0 = performance.now();
    const code = `try { require('node:module').enableCompileCache?.(${JSON.stringify(cacheDir)}); } catch {}\nrequire(${JSON.stringify(join(dist, 'engine-worker.js'))});`;
    this.worker = new Worker(code, { eval: true, name: 'llm-capture engine' });
    this.ready = new Promise((resolveReady, reject) => {
      this.worker.on('error', reject);
      this.worker.on('message', (m: Message) => {
        if (m.type === 'ready') resolveReady(performance.now() - t0);
        if (m.type === 'response' && m.id !== undefined) this.waiting.get(m.id)?.(m);
        for (const l of this.listeners) l(m);
      });
    });
  }

  async request(method: string, params: unknown): Promise<unknown> {
    await this.ready;
    const id = this.nextId++;
    const answer = new Promise<Message>((r) => this.waiting.set(id, r));
    this.worker.postMessage({ type: 'request', id, method, params });
    const m = await answer;
    if (!m.ok) throw new Error(`${method}: ${m.error?.message}`);
    return m.result;
  }

  /** Resolves when an event matches. */
  until(match: (m: Message) => boolean): Promise<void> {
    return new Promise((r) => {
      const l = (m: Message) => {
        if (!match(m)) return;
        this.listeners.delete(l);
        r();
      };
      this.listeners.add(l);
    });
  }

  async shutdown(): Promise<void> {
    const closed = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.on('message', (m: Message) => m.type === 'closed' && void this.worker.terminate());
    this.worker.postMessage({ type: 'shutdown' });
    await closed;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] ?? NaN;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function sample(dist: string, dataDir: string, cacheDir: string, figures: Map<string, number[]>, firstRound = false): Promise<void> {
  const put = (label: string, v: number) => figures.set(label, [...(figures.get(label) ?? []), v]);
  const start = { dataDir, settings: { ...DEFAULT_SETTINGS }, token: 'bench' };
  const t0 = performance.now();
  const engine = new Engine(dist, cacheDir);
  const shown = engine.until((m) => m.type === 'event' && m.event?.type === 'sessions' && (m.event.sessions?.length ?? 0) > 0);
  put('reopen: thread ready (ms)', await engine.ready);
  // The first round reads every exchange (no derived/ yet) and writes derived/ once it is done.
  const read = engine.until((m) => m.type === 'event' && m.event?.type === 'progress' && (m.event as { done?: number }).done === (m.event as { total?: number }).total);
  await engine.request('history.want', { dataDir });
  await shown;
  if (firstRound) await read;
  put('reopen: thread started → sessions shown (ms)', performance.now() - t0);
  await sleep(IDLE_MS);
  put('Start, CA present, sessions shown 1.5 s before (ms)', await timed(() => engine.request('capture.start', start)));
  await engine.request('capture.stop', {});
  await sleep(AFTER_STOP_MS);
  put('Start again, 0.5 s after Stop (ms)', await timed(() => engine.request('capture.start', start)));
  await engine.request('capture.stop', {});
  await engine.shutdown();

  put('fresh thread: started → capture.start answered (ms)', await freshStart(dist, cacheDir, start));
  // As a window of a new install or version meets it: a compile cache with nothing in it yet
  // (Node keys its entries by the file's path, so another install's cache does not serve either).
  const emptyCache = mkdtempSync(join(tmpdir(), 'llmc-empty-cache-'));
  try {
    put('fresh thread, empty compile cache: started → capture.start answered (ms)', await freshStart(dist, emptyCache, start));
  } finally {
    rmSync(emptyCache, { recursive: true, force: true });
  }
}

/** A new engine thread whose first request is `capture.start`: the time from its start to the answer. */
async function freshStart(dist: string, cacheDir: string, start: unknown): Promise<number> {
  const t0 = performance.now();
  const engine = new Engine(dist, cacheDir);
  await engine.request('capture.start', start);
  const ms = performance.now() - t0;
  await engine.request('capture.stop', {});
  await engine.shutdown();
  return ms;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'llmc-engine-start-'));
  try {
    console.log(`engine start bench: ${CALLS} stored calls, ${SAMPLES} samples per build, builds alternating: ${dists.join(', ')}`);
    const seedDir = join(root, 'seed');
    const seeded = await seedStore(seedDir, CALLS, Math.min(500, CALLS));
    console.log(`  seeded ${seeded.calls} calls in ${seeded.sessions} sessions`);
    const figures = new Map<string, Map<string, number[]>>();
    const dirs = dists.map((dist, i) => {
      const dataDir = join(root, `data-${i}`);
      cpSync(seedDir, dataDir, { recursive: true });
      figures.set(dist, new Map());
      return { dist, dataDir, cacheDir: join(root, `cache-${i}`) };
    });
    // One unrecorded round per build: it creates the CA, writes derived/ and fills the compile cache.
    for (const d of dirs) {
      await sample(d.dist, d.dataDir, d.cacheDir, new Map(), true);
      await sleep(3500);
    }
    for (let i = 0; i < SAMPLES; i++) {
      for (const d of dirs) await sample(d.dist, d.dataDir, d.cacheDir, figures.get(d.dist)!);
    }
    const labels = [...figures.get(dists[0])!.keys()];
    const lw = Math.max(...labels.map((l) => l.length));
    console.log(`\n  median of ${SAMPLES} (fastest)`);
    console.log(`  ${''.padEnd(lw)}  ${dists.map((_, i) => `build ${i + 1}`.padStart(18)).join('')}`);
    for (const label of labels) {
      const cells = dists.map((d) => {
        const v = figures.get(d)!.get(label) ?? [];
        return `${median(v).toFixed(0)} (${Math.min(...v).toFixed(0)})`.padStart(18);
      });
      console.log(`  ${label.padEnd(lw)}  ${cells.join('')}`);
    }
    dists.forEach((d, i) => console.log(`  build ${i + 1}: ${d}`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
