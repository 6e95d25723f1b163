// Memory of the capture pipeline as the engine runs it, without VS Code: CaptureService
// (proxy + recorder + sql.js store, writer mode) and the engine's SessionFollower (LiveSessions
// read a slice at a time on store change, derived files saved, idle sessions set aside). The traffic comes
// from a child process (client + fake Anthropic upstream), so this process holds only what the
// extension host would. Prints RSS, V8 heap, external/arrayBuffers and the sql.js wasm memory
// before, right after, after idle + gc, and once capture has stopped (what the proxy's thread and the
// open store held), with where resident memory lies (bench/smaps.ts); asserts nothing.
//
// Run: node --expose-gc --import tsx bench/memory-bench.ts [--mb=1024] [--sessions=10] [--rate=MB/s]
//        [--no-live] [--no-retention] [--no-persist] [--retained] [--heap-snapshot]
//   --session-calls=N  each of the --sessions slots starts a new session every N calls (a day's
//                    sessions come and go); default: the same sessions throughout
//   --shape=extend   each session's calls extend one thread, as an agent's do: a request resends the
//                    earlier prompts and the answers to them (~80 KB each), and every --compact-every
//                    (16) calls the session compacts: it starts over from a new 8 KB summary. Default
//                    (fork): every request resends its own cut of a growing ~680 KB history and never
//                    an answer, so each call forks the session's thread
//   --seed-calls=N   start on a store that already holds N calls (extension-bench's seeded history:
//                    a 500-turn session and smaller ones), assembled before the traffic starts
//   --evict-idle=S   set sessions aside after S seconds without a call (the engine: 35 minutes)
//   --rate=N         send at most N MB a second (requests and answers). Unpaced, the client outruns
//                    capture on 2 cores and most exchanges are stored without bodies ("capture fell
//                    behind"): what stays in memory is then that of body-less calls, not of a day's use.
//   --no-live        no LiveSessions (store only): the assembler's share is the difference
//   --no-retention   retention off (the store keeps everything)
//   --no-persist     the derived session files are not written (their share is the difference)
//   --retained       after idle: drop LiveSessions, gc, and print what that freed, plus what the
//                    assembler's call records hold (request inputs, system prompts, tool schemas)
//   --keep           keep the data directory (the store and derived files) and print where it is
//   --heap-snapshot  also write a heap snapshot after idle, before --retained drops anything (slow, large)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { answerOffset, extendingRequestBody, historyRequestBody } from './agent-traffic';
import { formatSmaps, smapsSummary } from './smaps';

const MB = 1024 * 1024;
const FAKE_HOST = 'api.anthropic.com';
const MODEL = 'claude-sonnet-4-5-20250929';
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const num = (name: string, fallback: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const TOTAL_MB = num('mb', 1024);
const SESSIONS = Math.max(1, num('sessions', 10));
const IDLE_MS = num('idle', 10_000);
const PUSH_BUDGET_MS = num('budget', 600_000);
const RATE_MB_S = num('rate', 0);
const SESSION_CALLS = num('session-calls', 0);
const EVICT_IDLE_S = num('evict-idle', 0);
const EXTEND = argv.includes('--shape=extend');
const COMPACT_EVERY = Math.max(1, num('compact-every', 16));
const SEED_CALLS = num('seed-calls', 0);

// ---- sql.js wasm memory: grab the module's Memory export as it is instantiated ----------------------

// (The database file itself is not there: sql.js keeps it in its in-memory file system, a JS
// Uint8Array counted in arrayBuffers; the wasm memory holds SQLite's page cache and heap.)
interface WasmMemory { buffer: ArrayBuffer }
const wasmApi = (globalThis as unknown as { WebAssembly: { instantiate: (...a: unknown[]) => Promise<unknown>; Memory: abstract new (...a: never[]) => WasmMemory } }).WebAssembly;
const wasmMemories: WasmMemory[] = [];
const instantiate = wasmApi.instantiate.bind(wasmApi);
wasmApi.instantiate = async (...args: unknown[]) => {
  const result = await instantiate(...args);
  const instance = (result as { instance?: { exports: object } }).instance ?? (result as { exports: object });
  for (const v of Object.values(instance.exports)) if (v instanceof wasmApi.Memory) wasmMemories.push(v as WasmMemory);
  return result;
};
const wasmBytes = () => wasmMemories.reduce((n, m) => n + m.buffer.byteLength, 0);

// ---- the traffic (child process): a fake upstream and a client, shaped like bench/extension-bench.ts --

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function anthropicSse(text: string, id: string): string {
  const parts = [
    sse('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 150_000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < text.length; i += 40) parts.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 40) } }));
  parts.push(
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4000 } }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return parts.join('');
}

async function trafficChild(): Promise<void> {
  const { createTestPki } = await import('../test/support/test-pki');
  const { fetchVia, TunnelAgent } = await import('../test/support/proxied-request');
  const { seededRandom, TextGenerator } = await import('../test/store/fixtures/synthetic-session');
  const pki = createTestPki();
  const pool = new TextGenerator(seededRandom(11)).prose(4 * MB);
  const responseBytes = 300 * 1024;
  const answerChars = Math.floor(responseBytes * 0.27);
  let n = 0;
  const server: HttpsServer = createServer(pki.serverCert([FAKE_HOST]), (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const i = n++;
      // Extending traffic names its call, and gets the answer its next request will resend.
      const call = /^(\d+):(\d+)$/.exec(String(req.headers['x-bench-call'] ?? ''));
      const offset = call ? answerOffset(pool, Number(call[1]), Number(call[2]), answerChars) : (i * 7919 * 37) % (pool.length - responseBytes);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': `req_sink_${i}` });
      res.end(anthropicSse(pool.slice(offset, offset + answerChars), `msg_sink_${i}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const send = (m: unknown) => process.send!(m);
  send({ type: 'ready', port: (server.address() as AddressInfo).port, caPath: pki.caCertPath });
  const { proxyUrl, caPem } = await new Promise<{ proxyUrl: string; caPem: string }>((resolve) => process.once('message', (m) => resolve(m as never)));
  // As bench/extension-bench.ts: SESSIONS sessions whose requests resend a growing ~680 KB history
  // (+1.5 KB a request), 4 requests at a time, ~300 KB SSE answers; the loop stops on bytes.
  const total = TOTAL_MB * MB;
  const agent = new TunnelAgent({ proxyUrl, ca: caPem }, { keepAlive: true, maxSockets: 4 });
  const perSession = Math.ceil(total / (0.98 * MB) / SESSIONS);
  let next = 0;
  let dispatched = 0;
  let exchanges = 0;
  let errors = 0;
  let requestBytes = 0;
  let responseTotal = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (dispatched < total && performance.now() - t0 < PUSH_BUDGET_MS) {
      const i = next++;
      const { body, call } = EXTEND
        ? extendingRequestBody(pool, i, SESSIONS, COMPACT_EVERY, MODEL, answerChars, SESSION_CALLS)
        : { body: historyRequestBody(pool, i, SESSIONS, SESSION_CALLS > 0 ? SESSION_CALLS : perSession, MODEL, SESSION_CALLS > 0), call: undefined };
      dispatched += Buffer.byteLength(body) + responseBytes;
      // Paced: wait until this request is within the rate since the start.
      const due = RATE_MB_S > 0 ? (dispatched / MB / RATE_MB_S) * 1000 - (performance.now() - t0) : 0;
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      try {
        const res = await fetchVia(agent, FAKE_HOST, 443, {
          method: 'POST', path: '/v1/messages?beta=true',
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'claude-cli/2.1.80 (external, cli)', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-bench', ...(call ? { 'x-bench-call': call } : {}) },
          body: [body],
        });
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        exchanges++;
        requestBytes += Buffer.byteLength(body);
        responseTotal += res.body.length;
        if (exchanges % 100 === 0) send({ type: 'progress', exchanges, bytes: requestBytes + responseTotal });
      } catch (e) {
        if (++errors > 20) throw e;
      }
    }
  }));
  agent.destroy();
  send({ type: 'done', exchanges, errors, requestBytes, responseBytes: responseTotal, ms: performance.now() - t0 });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  server.closeAllConnections();
  server.close();
  rmSync(pki.dir, { recursive: true, force: true });
}

// ---- the measured process ----------------------------------------------------------------------------------

interface Sample { rss: number; heapUsed: number; external: number; arrayBuffers: number; wasm: number }

function sample(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, wasm: wasmBytes() };
}

const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;
const gc = () => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  g();
  g();
  return true;
};

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The length of `target[key]` when it is a string held in memory (not a spilled text's getter). */
function heldChars(target: object, key: string): number {
  const value: unknown = Object.getOwnPropertyDescriptor(target, key)?.value;
  return typeof value === 'string' ? value.length : 0;
}

/** What the assembler's call records hold, by walking its sessions (bench-only access to privates). */
function assemblerHoldings(live: { assembler: unknown }): Record<string, number> {
  const states = (live.assembler as { states: Map<string, { segments: { calls: { call: Record<string, unknown> }[]; own: unknown[] }[]; sideCalls: unknown[] }> }).states;
  let calls = 0;
  let inputChars = 0;
  let systemChars = 0;
  let toolChars = 0;
  let outputChars = 0;
  let items = 0;
  const seenInputs = new Set<unknown>();
  for (const state of states.values()) {
    for (const segment of state.segments) {
      items += segment.own.length;
      for (const record of segment.calls) {
        calls++;
        const call = record.call as { input?: { content: { type: string; text?: string; output?: string }[] }[]; system?: string; tools?: unknown[]; output?: unknown[] };
        if (call.input && !seenInputs.has(call.input)) {
          seenInputs.add(call.input);
          for (const m of call.input) for (const b of m.content) inputChars += (b.text ?? b.output ?? '').length;
        }
        // Texts in memory only: a spilled one is a getter (decision 83), and reading it would count it.
        systemChars += heldChars(call, 'system');
        toolChars += call.tools && call.tools.length > 0 ? JSON.stringify(call.tools).length : 0;
        for (const block of (call.output ?? []) as object[]) for (const key of Object.keys(block)) outputChars += heldChars(block, key);
      }
    }
  }
  return { sessions: states.size, calls, items, inputChars, systemChars, toolChars, outputChars };
}

/**
 * What the LiveSessions (assembler and views) hold: build every view, then drop it and measure
 * what a gc gives back. Works on a holder, in its own frame, so no stale register keeps it alive.
 */
async function retainedReport(holder: { live?: { assembler: { sessionIds(): string[]; session(id: string): unknown } } }): Promise<void> {
  const held = assemblerHoldings(holder.live!);
  console.log(`  assembler holds: ${held.sessions} sessions, ${held.calls} call records, ${held.items} items; in the records' calls: inputs ${mb(held.inputChars)} of text, system prompts ${mb(held.systemChars)}, tool definitions ${mb(held.toolChars)} (as JSON), outputs ${mb(held.outputChars)} of text`);
  // The views the assembler keeps built (a session's detail, cached against its revision).
  (holder.live!.assembler as unknown as { views: Map<string, unknown> }).views.clear();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const withoutViews = sample();
  const detailStart = performance.now();
  buildViews(holder);
  const detailMs = performance.now() - detailStart;
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const withViews = sample();
  const ref = new WeakRef(holder.live!);
  holder.live = undefined;
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const without = sample();
  console.log(`  all session views built in ${detailMs.toFixed(0)} ms; they hold ${mb(withViews.heapUsed - withoutViews.heapUsed)} of heap`);
  console.log(`  dropping LiveSessions (assembler, views) freed: heap ${mb(withViews.heapUsed - without.heapUsed)}, RSS ${mb(withViews.rss - without.rss)}${ref.deref() ? ' (NOT collected: still referenced)' : ''}`);
}

function buildViews(holder: { live?: { assembler: { sessionIds(): string[]; session(id: string): unknown } } }): void {
  const a = holder.live!.assembler;
  for (const id of a.sessionIds()) a.session(id);
}

async function main(): Promise<void> {
  const live = !flag('no-live');
  const retention = !flag('no-retention');
  const { CaptureService } = await import('../src/app/capture-service');
  const { SessionFollower } = await import('../src/engine/session-follower');
  type LiveSessions = import('../src/app/live-sessions').LiveSessions;
  const { parseMapping } = await import('../src/proxy');
  const { readFileSync } = await import('node:fs');

  const child: ChildProcess = fork(__filename, ['--role=traffic', ...argv], { execArgv: process.execArgv.filter((a) => a !== '--expose-gc') });
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m) => {
    messages.push(m as Record<string, unknown>);
    if ((m as { type: string }).type === 'progress') {
      const u = process.memoryUsage();
      process.stdout.write(`  … ${(m as { exchanges: number }).exchanges} exchanges, RSS ${mb(u.rss)}, heap ${mb(u.heapUsed)}, wasm ${mb(wasmBytes())}; ${formatSmaps(smapsSummary())}\n`);
    }
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (type: string) => {
    for (;;) {
      const m = messages.find((x) => x.type === type);
      if (m) return m;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const ready = await waitFor('ready') as { port: number; caPath: string };

  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-memory-'));
  if (SEED_CALLS > 0) {
    // A day's history already stored, as extension-bench's --calls: the engine lists it and follows on.
    const { seedStore } = await import('./extension-bench/seed');
    const seeded = await seedStore(dataDir, SEED_CALLS, Math.min(500, SEED_CALLS));
    console.log(`  seeded ${SEED_CALLS} calls (${mb(seeded.rawBytes)} of raw bodies)`);
  }
  gc();
  const cpu0 = cpuMs();
  const service = await CaptureService.start({
    dataDir, intercept: [FAKE_HOST], upstreamCaFiles: [ready.caPath], onlyMapped: true,
    map: [parseMapping(`${FAKE_HOST}:443=127.0.0.1:${ready.port}`)],
    ...(retention ? {} : { retention: {} }),
  });
  const store = service.store;
  const follower = new SessionFollower(() => undefined, (level, message) => console.log(`  engine ${level}: ${message}`));
  let passes = 0;
  let updateMs = 0;
  let sessions: LiveSessions | undefined;
  if (live) {
    follower.use(store, { dataDir, keep: false, persist: !flag('no-persist'), ...(EVICT_IDLE_S > 0 ? { evictIdleMs: EVICT_IDLE_S * 1000 } : {}) });
    sessions = follower.sessions!;
    const update = sessions.update.bind(sessions);
    sessions.update = (budget) => {
      const t = performance.now();
      const u = update(budget);
      updateMs += performance.now() - t;
      passes++;
      return u;
    };
  }

  if (sessions && SEED_CALLS > 0) {
    // The stored calls are assembled first, as a cold open does; the traffic's figures start after.
    const t = performance.now();
    while (sessions.calls < SEED_CALLS || sessions.queued > 0) await new Promise((r) => setTimeout(r, 100));
    console.log(`  the ${sessions.calls} stored calls assembled in ${(performance.now() - t).toFixed(0)} ms`);
  }

  // Peak and snapshot watch, every 0.5 s.
  const engine = (store as unknown as { engine: { lastSnapshot?: { at: number; bytes: number; exportMs: number } } }).engine;
  const snapshots: { bytes: number; exportMs: number }[] = [];
  let lastSnapshotAt: number | undefined;
  const peak: Sample = sample();
  const watch = setInterval(() => {
    const s = sample();
    for (const k of Object.keys(peak) as (keyof Sample)[]) peak[k] = Math.max(peak[k], s[k]);
    const snap = engine.lastSnapshot;
    if (snap && snap.at !== lastSnapshotAt) {
      lastSnapshotAt = snap.at;
      snapshots.push({ bytes: snap.bytes, exportMs: snap.exportMs });
    }
  }, 500);

  gc();
  const before = sample();
  const beforeSmaps = smapsSummary();
  console.log(`memory bench: ${TOTAL_MB} MB of Claude-like traffic (${EXTEND ? `extending: compaction every ${COMPACT_EVERY} calls` : 'forking'})${RATE_MB_S > 0 ? ` at ${RATE_MB_S} MB/s` : ' unpaced'}, ${SESSIONS} sessions${SESSION_CALLS > 0 ? ` at a time, each ${SESSION_CALLS} calls` : ''}, LiveSessions ${live ? `on, idle sessions set aside after ${EVICT_IDLE_S > 0 ? `${EVICT_IDLE_S} s` : '35 min'}` : 'OFF'}, retention ${retention ? 'default (512 MB)' : 'OFF'}; Node ${process.versions.node}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  child.send({ proxyUrl: service.proxy.url, caPem: readFileSync(service.proxy.ca.certPath, 'utf8') });
  const done = await waitFor('done') as { exchanges: number; errors: number; requestBytes: number; responseBytes: number; ms: number };
  // Let the live loop catch up with everything stored.
  await store.flush();
  // (The follower reads on store change, debounced 250 ms: look twice.)
  for (let look = 0; look < 2; look++) {
    await new Promise((r) => setTimeout(r, 600));
    while (sessions && sessions.queued > 0) await new Promise((r) => setTimeout(r, 50));
  }
  const after = sample();
  const cpuTotal = cpuMs() - cpu0;
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const hadGc = gc();
  const idle = sample();
  const idleSmaps = smapsSummary();

  const rows: [string, Sample][] = [['before', before], ['after traffic', after], [`after ${IDLE_MS / 1000} s idle${hadGc ? ' + gc' : ' (no gc: run with --expose-gc)'}`, idle], ['peak (0.5 s samples)', peak]];
  const trafficBytes = done.requestBytes + done.responseBytes;
  console.log(`  traffic: ${done.exchanges} exchanges (${done.errors} failed), ${mb(trafficBytes)} (${mb(done.requestBytes)} requests + ${mb(done.responseBytes)} SSE) in ${(done.ms / 1000).toFixed(1)} s`);
  console.log(`  ${'when'.padEnd(30)} ${'RSS'.padStart(8)} ${'heapUsed'.padStart(9)} ${'external'.padStart(9)} ${'arrayBuf'.padStart(9)} ${'sql.js wasm'.padStart(12)}`);
  for (const [label, s] of rows) console.log(`  ${label.padEnd(30)} ${mb(s.rss).padStart(8)} ${mb(s.heapUsed).padStart(9)} ${mb(s.external).padStart(9)} ${mb(s.arrayBuffers).padStart(9)} ${mb(s.wasm).padStart(12)}`);
  console.log(`  resident by mapping, before: ${formatSmaps(beforeSmaps)}`);
  console.log(`  resident by mapping, after idle: ${formatSmaps(idleSmaps)}`);
  console.log(`  CPU of this process: ${(cpuTotal / (trafficBytes / MB)).toFixed(0)} ms per MB; LiveSessions: ${passes} passes, ${updateMs.toFixed(0)} ms, ${sessions?.calls ?? 0} calls assembled, ${sessions?.assembler.coldCount ?? 0} sessions set aside`);
  // The spill file of the assembly's long texts (decision 83), when this build has one.
  const spill = (follower as unknown as { spill?: { stats: { texts: number; bytes: number; reads: number; liveBytes?: number; compactions?: number } } }).spill?.stats;
  if (spill) {
    // A build before decision 87 counts no live bytes and never compacts.
    const compacted = spill.liveBytes === undefined ? '' : `; ${mb(spill.liveBytes)} of it still read, ${spill.compactions ?? 0} compactions`;
    console.log(`  long texts spilled to disk: ${spill.texts}, file ${mb(spill.bytes)}${compacted}; read back ${spill.reads} times`);
  }
  const stats = store.stats();
  let behind = 0;
  for (let before: number | undefined, page; (page = store.listExchanges({ limit: 500, before })).items.length > 0; before = page.next) {
    behind += page.items.filter((x) => x.errors.some((e) => e.startsWith('capture fell behind'))).length;
    if (page.next === undefined) break;
  }
  console.log(`  exchanges stored without their bodies (capture fell behind forwarding): ${behind} of ${stats.exchanges} kept`);
  console.log(`  store: ${stats.exchanges} exchanges kept, database ${mb(stats.databaseBytes)} (${mb(stats.databaseUsedBytes ?? stats.usedBytes)} in use, ${((stats.databaseUsedBytes ?? stats.usedBytes) / Math.max(1, stats.exchanges) / 1024).toFixed(1)} KiB an exchange), segments ${mb(stats.segmentBytes ?? 0)}, journal ${mb(stats.journalBytes)}, ${mb(dirBytes(dataDir))} on disk`);
  // A snapshot now, for its export time (what blocks the event loop) at this database size.
  const snap = await store.snapshot();
  if (snap) console.log(`  snapshot now: ${mb(snap.bytes)}, export ${snap.exportMs.toFixed(0)} ms (blocks the loop), write ${snap.writeMs.toFixed(0)} ms`);
  console.log(`  snapshots during the run: ${snapshots.length}${snapshots.length ? ` (${snapshots.map((s) => `${mb(s.bytes)}/${s.exportMs.toFixed(0)} ms`).join(', ')})` : ''}`);
  const heap = getHeapStatistics();
  console.log(`  V8: total heap ${mb(heap.total_heap_size)}, used ${mb(heap.used_heap_size)}, external ${mb(heap.external_memory)}, malloced ${mb(heap.malloced_memory)}`);

  if (flag('heap-snapshot')) {
    const file = writeHeapSnapshot(join(tmpdir(), `llmc-memory-${process.pid}.heapsnapshot`));
    console.log(`  heap snapshot: ${file}`);
  }

  if (flag('retained') && sessions) {
    const holder = { live: sessions as LiveSessions | undefined };
    sessions = undefined;
    follower.detach();
    await follower.settle();
    follower.reset();
    await retainedReport(holder);
  }
  clearInterval(watch);
  follower.detach();
  await follower.settle();
  await service.stop();
  // What the proxy's thread and the open store held: both are gone now; the assembly is not (unless --retained).
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const stopped = sample();
  console.log(`  after capture stopped (proxy thread ended, store closed) + gc: RSS ${mb(stopped.rss)}, ${mb(idle.rss - stopped.rss)} less than after idle; heap ${mb(stopped.heapUsed)}, external ${mb(stopped.external)}`);
  console.log(`  resident by mapping, stopped: ${formatSmaps(smapsSummary())}`);
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  if (flag('keep')) console.log(`  data directory kept: ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}

(argv.includes('--role=traffic') ? trafficChild() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
