// Store benchmark: prints figures, asserts nothing.
//   npx tsx bench/store-bench.ts            all scenarios (the 500 MB one needs ~3 GB of RAM and a few minutes)
//   npx tsx bench/store-bench.ts --quick    without the 500 MB snapshot
// Each scenario runs in its own child process, so memory figures are not polluted by the others.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeRecord, StoredBody } from '../src/capture/records';
import { CaptureStore } from '../src/store';
import { seededRandom, syntheticSession, syntheticSessionRequests, syntheticSseResponse, TextGenerator } from '../test/store/fixtures/synthetic-session';

type Figures = Record<string, string | number>;

const MB = 1024 * 1024;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
const ms = (n: number) => `${n.toFixed(0)} ms`;

function body(data: Buffer): StoredBody {
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

function record(id: number, request: Buffer, response?: Buffer): ExchangeRecord {
  return {
    id, connectionId: 1, method: 'POST', url: `https://api.anthropic.com/v1/messages?i=${id}`, httpVersion: '1.1', kind: 'sse',
    requestHeaders: [['content-type', 'application/json'], ['anthropic-version', '2023-06-01']], startedAt: Date.now(),
    statusCode: 200, requestBody: body(request), responseBody: response ? body(response) : undefined, endedAt: Date.now(), outcome: 'complete', errors: [],
  };
}

async function openStore(dir: string): Promise<CaptureStore> {
  // Periodic snapshots off: the scenarios measure them explicitly.
  const store = await CaptureStore.open({ dataDir: dir, mode: 'writer', snapshotIntervalMs: 3_600_000, snapshotJournalBytes: 4096 * MB, retention: {} });
  store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 1, targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', openedAt: Date.now() });
  return store;
}

/** Records the longest gap between 1 ms timer ticks: how long the event loop was blocked. */
function loopGaps(): { stop: () => number } {
  let last = performance.now();
  let max = 0;
  const t = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(max, performance.now() - last);
    },
  };
}

function rss(): number {
  return process.memoryUsage().rss;
}

/** Ingest rate of exchanges with a 100 KB request body (all new content, so nothing deduplicates). */
async function ingest(dir: string, kind: 'text' | 'binary'): Promise<Figures> {
  const count = 400;
  const gen = new TextGenerator(seededRandom(kind === 'text' ? 1 : 2));
  const bodies = Array.from({ length: count }, () => (kind === 'text' ? Buffer.from(gen.prose(100 * 1024)) : randomBytes(100 * 1024)));
  const store = await openStore(dir);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) store.exchangeUpdated(record(i + 1, bodies[i], Buffer.from(`event: message_stop\ndata: {"i":${i}}\n\n`)));
  const tSync = performance.now() - t0;
  await store.flush();
  const t = performance.now() - t0;
  const s = store.stats();
  await store.close();
  return {
    scenario: `ingest 100 KB ${kind} bodies`,
    exchanges: count,
    'exchanges/s': Math.round(count / (t / 1000)),
    'MB/s': ((count * 100 * 1024) / MB / (t / 1000)).toFixed(1),
    'per exchange (sync)': `${(tSync / count).toFixed(2)} ms`,
    'stored/raw': (s.storedBodyBytes / s.bodyBytes).toFixed(3),
  };
}

/** The 200-request resent-history session: stored size against its largest request. */
async function session(dir: string, withResponses: boolean): Promise<Figures> {
  const requests = syntheticSession({ requests: 200, seed: 42 });
  const random = seededRandom(9);
  const gen = new TextGenerator(random);
  const responses = withResponses ? requests.map(() => syntheticSseResponse(random, gen, 1000 + Math.floor(random() * 2000))) : [];
  const largest = Math.max(...requests.map((r) => r.length));
  const raw = requests.reduce((a, r) => a + r.length, 0) + responses.reduce((a, r) => a + r.length, 0);
  const store = await openStore(dir);
  const t0 = performance.now();
  requests.forEach((r, i) => store.exchangeUpdated(record(i + 1, r, responses[i])));
  await store.flush();
  const t = performance.now() - t0;
  const snap = await store.snapshot();
  const s = store.stats();
  await store.close();
  return {
    scenario: `200-request session${withResponses ? ' + SSE responses' : ''}`,
    'largest request': mb(largest),
    'raw traffic': mb(raw),
    'stored bodies': `${mb(s.storedBodyBytes)} (${(s.storedBodyBytes / largest).toFixed(2)}x largest)`,
    'database file': `${mb(snap?.bytes ?? 0)} (${((snap?.bytes ?? 0) / largest).toFixed(2)}x largest)`,
    'segment files': mb(s.segmentBytes ?? 0),
    chunks: s.chunks,
    ingest: ms(t),
  };
}

/** Builds a database of about `targetMb` (incompressible unique bodies), then times a snapshot and a reload. */
async function snapshotAt(dir: string, targetMb: number): Promise<Figures> {
  const store = await openStore(dir);
  const n = Math.ceil((targetMb * MB) / (100 * 1024));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    store.exchangeUpdated(record(i + 1, randomBytes(100 * 1024)));
    if (i % 500 === 499) await store.flush();
  }
  await store.flush();
  const tIngest = performance.now() - t0;
  const { journalBytes, segmentBytes } = store.stats();
  const gaps = loopGaps();
  await new Promise((r) => setTimeout(r, 50));
  const snap = (await store.snapshot())!;
  const maxGap = gaps.stop();
  const rssAfter = rss();
  await store.close();
  const tOpen = performance.now();
  const again = await CaptureStore.open({ dataDir: dir, mode: 'reader' });
  const openMs = performance.now() - tOpen;
  await again.close();
  return {
    scenario: `snapshot of ~${targetMb} MB`,
    'database file': mb(statSync(join(dir, 'capture.sqlite')).size),
    'segment files': mb(segmentBytes ?? 0),
    'journal before': mb(journalBytes),
    'export (blocks loop)': ms(snap.exportMs),
    'longest event-loop stall': ms(maxGap),
    'write+fsync+rename+rotate': ms(snap.writeMs),
    'open (load+check)': ms(openMs),
    'ingest': `${ms(tIngest)} (${((n * 100 * 1024) / MB / (tIngest / 1000)).toFixed(0)} MB/s)`,
    'RSS after snapshot': mb(rssAfter),
  };
}

/** One resent-history session (200 requests with SSE responses), generated one request at a time. */
async function ingestSession(store: CaptureStore, seed: number, firstId: number, budget: number): Promise<{ raw: number; count: number; generationMs: number }> {
  const random = seededRandom(seed);
  const gen = new TextGenerator(random);
  const requests = syntheticSessionRequests({ requests: 200, seed: 1000 + seed });
  let generationMs = 0;
  let raw = 0;
  let count = 0;
  while (raw < budget) {
    const g0 = performance.now();
    const next = requests.next();
    if (next.done) break;
    const response = syntheticSseResponse(random, gen, 800 + Math.floor(random() * 2000));
    generationMs += performance.now() - g0;
    store.exchangeUpdated(record(firstId + count, next.value, response));
    raw += next.value.length + response.length;
    count++;
    // Let the journal and batch timers run, as they would between real requests.
    if (count % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  return { raw, count, generationMs };
}

function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return rss();
}

/** RSS while ingesting 1 GB of LLM-like traffic: several resent-history sessions with SSE responses. */
async function rssAfterGigabyte(dir: string): Promise<Figures> {
  const store = await openStore(dir);
  const rssBefore = settledRss();
  let raw = 0;
  let id = 1;
  let sessions = 0;
  let generation = 0;
  const marks: string[] = [];
  const t0 = performance.now();
  while (raw < 1024 * MB) {
    const r = await ingestSession(store, sessions, id, 1024 * MB - raw);
    raw += r.raw;
    id += r.count;
    generation += r.generationMs;
    sessions++;
    if (sessions % 4 === 0) marks.push(`${(raw / MB).toFixed(0)} MB: ${mb(settledRss())}`);
  }
  const t = performance.now() - t0 - generation;
  const rssAfter = settledRss();
  const m = process.memoryUsage();
  const s = store.stats();
  const snap = await store.snapshot();
  const rssSnapshot = settledRss();
  await store.close();
  return {
    scenario: 'ingest 1 GB of LLM-like traffic (13 resent-history sessions + SSE responses)',
    'raw traffic': mb(raw),
    exchanges: id - 1,
    'ingest (excl. generation)': `${ms(t)} (${(raw / MB / (t / 1000)).toFixed(0)} MB/s)`,
    'stored bodies': mb(s.storedBodyBytes),
    'database (used)': mb(s.databaseUsedBytes ?? s.usedBytes),
    'snapshot file': mb(snap?.bytes ?? 0),
    'segment files': mb(s.segmentBytes ?? 0),
    'RSS before': mb(rssBefore),
    'RSS along the way': marks.join(', '),
    'RSS after ingest / after snapshot': `${mb(rssAfter)} / ${mb(rssSnapshot)}`,
    'heap used / external / array buffers': `${mb(m.heapUsed)} / ${mb(m.external)} / ${mb(m.arrayBuffers)}`,
  };
}

const SCENARIOS: Record<string, (dir: string) => Promise<Figures>> = {
  'ingest-text': (d) => ingest(d, 'text'),
  'ingest-binary': (d) => ingest(d, 'binary'),
  session: (d) => session(d, false),
  'session-sse': (d) => session(d, true),
  'snapshot-50': (d) => snapshotAt(d, 50),
  'snapshot-500': (d) => snapshotAt(d, 500),
  'rss-1gb': rssAfterGigabyte,
};

async function child(name: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-bench-'));
  try {
    const figures = await SCENARIOS[name](dir);
    process.stdout.write(`RESULT ${JSON.stringify(figures)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(results: Figures[]): void {
  for (const r of results) {
    const { scenario, ...rest } = r;
    console.log(`\n${scenario}`);
    const width = Math.max(...Object.keys(rest).map((k) => k.length));
    for (const [k, v] of Object.entries(rest)) console.log(`  ${k.padEnd(width)}  ${v}`);
  }
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const names = Object.keys(SCENARIOS).filter((n) => !(quick && n === 'snapshot-500'));
  const results: Figures[] = [];
  for (const name of names) {
    process.stderr.write(`running ${name}…\n`);
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, `--scenario=${name}`], { encoding: 'utf8', maxBuffer: 64 * MB });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (line) results.push(JSON.parse(line.slice(7)) as Figures);
    else results.push({ scenario: name, error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-3).join(' | ') });
  }
  printTable(results);
}

const scenarioArg = process.argv.find((a) => a.startsWith('--scenario='));
if (scenarioArg) {
  child(scenarioArg.slice('--scenario='.length)).catch((err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
} else {
  main();
}
