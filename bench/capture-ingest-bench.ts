// Ingest while forwarding: N POSTs of ~100 KB unique bodies (~140 KB answers), 4 at a time, through
// each column in turn, in the same run, with the same bodies:
//   direct        client → fake upstream, no proxy: the ceiling of this client and fake
//   ours          our proxy (startProxy), forwarding only, in a child process
//   ours+capture  CaptureService (proxy thread → recorder → store on disk), in a child process
//   mitmdump-w    mitmdump -w FILE: mitmproxy writing every flow to disk
//   mitmdump      (only with --only) mitmdump forwarding only, for reference
// The client and the fake share this process; every proxy has a process of its own. Prints
// exchanges/s, MB/s and ratios per column, and proves what each recorder wrote; asserts nothing.
// Run: npx tsx bench/capture-ingest-bench.ts [--count=N] [--rounds=R] [--warm-up=N] [--only=direct,ours,ours+capture,mitmdump-w,mitmdump] [--profile]
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { Agent, request, type ClientRequestArgs } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { openTls, type Route } from './client';
import { countFlows } from './mitm-flows';
import { launchMitmdump } from './mitmdump';
import type { OursChildConfig } from './capture-ingest/ours-child';
import { launchOursChild, type Fake } from './capture-ingest/launch';
import { BENCH_DIR, killAll, stopProcess } from './processes';
import { startFakeUpstream } from '../test/support/fake-upstream';
import { createTestPki } from '../test/support/test-pki';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const COUNT = Number(arg('count') ?? 300);
const CONCURRENCY = 4;
/**
 * Uncounted exchanges before each column's measured ones (default 8: connections opened,
 * certificates minted). V8 still compiles our hot code through at least the first thousand exchanges
 * after that (~50 TurboFan jobs a second on its helper threads all through a 1,200-exchange run), a
 * cost a capture that runs all day pays once: a warm-up of 1,000 measures the steady state.
 */
const WARMUP = Number(arg('warm-up') ?? 8);
const BODY_BYTES = 100 * 1024;
const HOST = 'api.anthropic.com';
const ROUNDS = Number(arg('rounds') ?? 1);
const PROFILE = process.argv.includes('--profile');
const ALL = ['direct', 'ours', 'ours+capture', 'mitmdump-w', 'mitmdump'] as const;
type ColumnName = (typeof ALL)[number];
const ONLY = (arg('only') ?? 'direct,ours,ours+capture,mitmdump-w').split(',').map((s) => s.trim()).filter(Boolean);


interface Started {
  route: Route;
  /** The proxy's process, for its CPU time; none for direct. */
  proc?: ChildProcess;
  /** Stops the proxy; resolves once its process has exited (for a recorder: everything written). */
  stop(): Promise<void>;
  /** After the run (and after every column): what the proxy wrote, checked against what was sent. */
  written?(sent: Sent): Promise<Written>;
  cleanup?(): void;
}

/** What one column's client sent and received, by exchange number (warm-up included). */
interface Sent {
  bodies: Buffer[];
  responseSizes: number[];
}

interface Written {
  summary: string;
  /** Exchanges found complete in what was written (both bodies whole), and those of them past the warm-up. */
  complete: number;
  completeMeasured: number;
  /** Bytes on disk. */
  bytes: number;
}

interface Result {
  name: ColumnName;
  ms: number;
  sentBytes: number;
  receivedBytes: number;
  proxyCpuMs?: number;
  threads?: ThreadSplit;
  benchCpuMs: number;
  stopMs?: number;
  responseSizes: number[];
  written?: Written;
}

// ---- The workload ---------------------------------------------------------------------------

/** Text that does not repeat between requests, so the store cannot deduplicate it away. Made once, sent to every column. */
function makeBodies(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(JSON.stringify({ n: i, messages: [{ role: 'user', content: randomBytes(BODY_BYTES * 0.75).toString('base64') }] })));
}

/** Keep-alive connections opened by openTls (CONNECT, then TLS with the route's name and CA), CONCURRENCY of them. */
class RouteAgent extends Agent {
  constructor(private readonly route: Route) {
    super({ keepAlive: true, maxSockets: CONCURRENCY, keepAliveMsecs: 30_000 });
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    openTls(this.route).then(({ socket }) => callback?.(null, socket), (e: Error) => callback?.(e, undefined as unknown as Duplex));
    return undefined;
  }
}

function post(agent: RouteAgent, route: Route, n: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      agent, host: route.servername, port: route.connectPort, method: 'POST', path: `/v1/messages?n=${n}`,
      headers: { host: route.servername, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => req.destroy(new Error(`POST ${n} timed out`)), 60_000);
    req.once('error', (e) => { clearTimeout(timer); reject(e); });
    req.once('response', (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.once('error', (e) => { clearTimeout(timer); reject(e); });
      res.once('end', () => {
        clearTimeout(timer);
        // The fake echoes the request as JSON with the body in base64: a short answer is a broken exchange.
        if (res.statusCode !== 200 || bytes < body.length) reject(new Error(`POST ${n}: status ${res.statusCode}, ${bytes} bytes`));
        else resolve(bytes);
      });
    });
    req.end(body);
  });
}

/** Sends bodies[from, to) CONCURRENCY at a time; returns the wall time and the response bytes (each in `sizes`). */
async function drive(agent: RouteAgent, route: Route, bodies: Buffer[], from: number, to: number, sizes: number[], forget: () => void): Promise<{ ms: number; received: number }> {
  let next = from;
  let received = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < to) {
      const n = next++;
      const bytes = await post(agent, route, n, bodies[n]);
      sizes[n] = bytes;
      received += bytes; // not `received += await …`, which would add to a stale total
      forget();
    }
  }));
  return { ms: performance.now() - started, received };
}

// ---- The columns ----------------------------------------------------------------------------

/** CPU ns of each thread of a process, by thread id (schedstat: ns precision). */
function threadCpuNs(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
  } catch {
    // The process is gone.
  }
  return out;
}

/**
 * Where a proxy process's CPU went between two readings, in ms: its main thread, its busiest other
 * thread (ours: the proxy's own thread) and every other thread together (V8's GC and compiler
 * threads, libuv's pool).
 */
function threadSplit(pid: number | undefined, before: Map<string, number>, after: Map<string, number>): ThreadSplit | undefined {
  if (pid === undefined || after.size === 0) return undefined;
  const deltas = [...after].map(([tid, ns]) => ({ tid, ms: (ns - (before.get(tid) ?? 0)) / 1e6 }));
  const main = deltas.find((d) => d.tid === String(pid))?.ms ?? 0;
  const others = deltas.filter((d) => d.tid !== String(pid)).sort((a, b) => b.ms - a.ms);
  return { main, busiest: others[0]?.ms ?? 0, rest: others.slice(1).reduce((n, d) => n + d.ms, 0) };
}

interface ThreadSplit {
  main: number;
  busiest: number;
  rest: number;
}

/** CPU time of a whole process (all threads, exited ones included), from /proc/<pid>/stat, in ms. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** SIGTERM, then the time until the process has exited (SIGKILL after 120 s). */
async function stopAndTime(proc: ChildProcess): Promise<number> {
  const started = performance.now();
  await stopProcess(proc, { killAfterMs: 120_000, mustSucceed: true });
  return performance.now() - started;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

async function startOurs(fake: Fake, mode: OursChildConfig['mode']): Promise<Started> {
  const flags: string[] = [];
  if (PROFILE) {
    const dir = join(BENCH_DIR, 'results', 'profiles', `capture-ingest-${mode}`);
    mkdirSync(dir, { recursive: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const { child, route, dataDir } = await launchOursChild(fake, mode, HOST, 'llmc-ingest-', flags);
  return {
    route,
    proc: child.proc,
    stop: async () => {
      try {
        await stopAndTime(child.proc);
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}: ${child.stderrTail()}`);
      }
    },
    written: mode === 'forward' ? undefined : (sent) => readStore(dataDir, sent),
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * Reads the store back as any other reader would, after the writer has closed it, and checks every
 * exchange: the request body byte for byte against the one sent, the response body's length
 * against the one received (capture that falls behind drops body chunks and notes it on the exchange).
 */
async function readStore(dataDir: string, sent: Sent): Promise<Written> {
  const { CaptureStore } = await import('../src/store');
  const reader = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    const stats = reader.stats();
    let complete = 0;
    let completeMeasured = 0;
    const notes = new Map<string, number>();
    for (let before: number | undefined; ;) {
      const page = reader.listExchanges({ limit: 1000, before });
      for (const summary of page.items) {
        const exchange = reader.getExchange(summary.id);
        const n = Number(/[?&]n=(\d+)/.exec(exchange?.url ?? '')?.[1] ?? NaN);
        const request = exchange?.requestBody;
        const response = exchange?.responseBody;
        if (request && !request.truncated && request.data.equals(sent.bodies[n] ?? Buffer.alloc(0)) &&
          response && !response.truncated && response.data.length === sent.responseSizes[n]) {
          complete++;
          if (n >= WARMUP) completeMeasured++;
        }
        for (const e of exchange?.errors ?? []) {
          const note = e.replace(/\d+/g, 'N');
          notes.set(note, (notes.get(note) ?? 0) + 1);
        }
      }
      if (page.next === undefined) break;
      before = page.next;
    }
    const expected = sent.responseSizes.length;
    const noted = [...notes].map(([note, times]) => `; ${times} noted "${note}"`).join('');
    // Measured before the writer below finishes what capture put off (its passes change the files).
    const bytes = dirBytes(dataDir);
    await reader.close();
    return {
      summary: `${stats.exchanges} of ${expected} exchanges stored, ${complete} with both bodies complete; ` +
        `bodies ${(stats.bodyBytes / 1e6).toFixed(1)} MB raw, ${(stats.storedBodyBytes / 1e6).toFixed(1)} MB stored${noted}` +
        (stats.deferredBytes > 0 ? `; ${await finishDeferred(dataDir, stats.deferredBytes, expected)}` : ''),
      complete,
      completeMeasured,
      bytes,
    };
  } catch (e) {
    await reader.close();
    throw e;
  }
}

/**
 * What capture put off while it was behind (compressing, cutting large bodies) is done by the
 * writer's passes once it keeps up; here a writer opened after the run does it, and this says at what cost.
 */
async function finishDeferred(dataDir: string, deferredBytes: number, exchanges: number): Promise<string> {
  const { CaptureStore } = await import('../src/store');
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const { user, system } = process.cpuUsage(since);
    return (user + system) / 1000;
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const writer = await CaptureStore.open({ dataDir, mode: 'writer' });
  // Opening (snapshot, journal replayed) and asking how much is left (stats() scans every chunk)
  // are the bench's, not the passes': their CPU is taken out of the passes' figure.
  const openMs = cpuMs(cpu);
  let askingMs = 0;
  const left = () => {
    const asked = process.cpuUsage();
    const bytes = writer.stats().deferredBytes;
    askingMs += cpuMs(asked);
    return bytes;
  };
  try {
    while (left() > 0 && performance.now() - started < 300_000) await new Promise((r) => setTimeout(r, 250));
    const passesMs = cpuMs(cpu) - openMs - askingMs;
    return `${(deferredBytes / 1e6).toFixed(1)} MB left raw while behind, compressed and cut by the next writer's passes in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s (${passesMs.toFixed(0)} ms CPU, ${(passesMs / exchanges).toFixed(2)} ms per exchange; ` +
      `opening the store took ${openMs.toFixed(0)} ms more), ${(writer.stats().storedBodyBytes / 1e6).toFixed(1)} MB stored after`;
  } finally {
    await writer.close();
  }
}

async function startMitmdump(fake: Fake, writeFlows: boolean): Promise<Started> {
  // As bench/candidates.ts starts it, except stream_large_bodies (which -w would not record).
  let flowFile = '';
  const m = await launchMitmdump(fake.caPath, 'llmc-ingest-mitm-', (confdir) => {
    flowFile = join(confdir, 'flows.mitm');
    return writeFlows ? ['-w', flowFile] : [];
  });
  return {
    // CONNECT 127.0.0.1:<fake port>, then TLS with SNI and Host api.anthropic.com: no DNS; mitmproxy
    // dials that address, mints for the SNI name and verifies the fake (whose SANs hold both).
    route: { proxyPort: m.port, connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: m.ca },
    proc: m.child.proc,
    stop: async () => {
      // mitmdump ends on SIGTERM by shutting down its addons: the flow file is closed then.
      try {
        await stopAndTime(m.child.proc);
      } catch (e) {
        // mitmproxy may exit non-zero on a signal; what matters is that the file is complete.
        if (!writeFlows) return;
        console.error(`  note: mitmdump: ${e instanceof Error ? e.message : String(e)} ${m.child.stderrTail()}`);
      }
    },
    written: writeFlows ? async (sent) => {
      // mitmproxy holds each body whole (no stream_large_bodies) and writes the flow at its end:
      // a flow in the file has its bodies; the file's size against the bytes sent says the same.
      const bytes = existsSync(flowFile) ? statSync(flowFile).size : 0;
      const flows = bytes > 0 ? countFlows(flowFile) : 0;
      return { summary: `${flows} of ${sent.responseSizes.length} flows in the file`, complete: flows, completeMeasured: Math.max(0, flows - WARMUP), bytes };
    } : undefined,
    cleanup: m.cleanup,
  };
}

async function startColumn(name: ColumnName, fake: Fake): Promise<Started> {
  switch (name) {
    case 'direct': return { route: { connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: fake.ca }, stop: async () => {} };
    case 'ours': return startOurs(fake, 'forward');
    case 'ours+capture': return startOurs(fake, 'capture');
    case 'mitmdump-w': return startMitmdump(fake, true);
    case 'mitmdump': return startMitmdump(fake, false);
  }
}

async function runColumn(name: ColumnName, fake: Fake, bodies: Buffer[], forget: () => void): Promise<{ result: Result; started: Started }> {
  const started = await startColumn(name, fake);
  const agent = new RouteAgent(started.route);
  const responseSizes: number[] = [];
  try {
    // Warm-up, not counted: the connections opened, certificates minted (and, if long enough, the JIT warm).
    await drive(agent, started.route, bodies, 0, WARMUP, responseSizes, forget);
    const proxyCpu = processCpuMs(started.proc?.pid);
    const threadsBefore = threadCpuNs(started.proc?.pid);
    const benchCpu = process.cpuUsage();
    const { ms, received } = await drive(agent, started.route, bodies, WARMUP, WARMUP + COUNT, responseSizes, forget);
    const benchCpuUsed = process.cpuUsage(benchCpu);
    const proxyCpuAfter = processCpuMs(started.proc?.pid);
    const threads = threadSplit(started.proc?.pid, threadsBefore, threadCpuNs(started.proc?.pid));
    agent.destroy();
    const stopStarted = performance.now();
    await started.stop();
    const stopMs = performance.now() - stopStarted;
    const sentBytes = bodies.slice(WARMUP, WARMUP + COUNT).reduce((sum, b) => sum + b.length, 0);
    return {
      started,
      result: {
        name, ms, sentBytes, receivedBytes: received,
        proxyCpuMs: proxyCpu !== undefined && proxyCpuAfter !== undefined ? proxyCpuAfter - proxyCpu : undefined,
        benchCpuMs: (benchCpuUsed.user + benchCpuUsed.system) / 1000,
        threads,
        stopMs: started.proc ? stopMs : undefined,
        responseSizes,
      },
    };
  } catch (e) {
    agent.destroy();
    await started.stop().catch(() => undefined);
    started.cleanup?.();
    throw e;
  }
}

// ---- The table ------------------------------------------------------------------------------

/** Per column, its median round by exchanges/s (with two rounds, the slower). */
function printTable(columns: ColumnName[], runs: Result[], loadStart: string, loadEnd: string): void {
  const eps = (r: Result): number => COUNT / (r.ms / 1000);
  const roundsOf = (name: ColumnName): Result[] => runs.filter((r) => r.name === name);
  const results = columns.map((name) => [...roundsOf(name)].sort((a, b) => a.ms - b.ms)[Math.floor(ROUNDS / 2)]);
  const direct = results.find((r) => r.name === 'direct');
  const mitmW = results.find((r) => r.name === 'mitmdump-w');
  const width = 16;
  const line = (label: string, cell: (r: Result) => string): void =>
    console.log(`  ${label.padEnd(44)}${results.map((r) => cell(r).padStart(width)).join('')}`);
  const dash = '–';
  console.log(`ingest while forwarding: ${COUNT} POSTs of ~${BODY_BYTES / 1024} KB unique bodies (answers ~${Math.round(results[0].receivedBytes / COUNT / 1024)} KB), ${CONCURRENCY} at a time, after ${WARMUP} warm-up exchanges per column`);
  console.log(`client and fake upstream in this process, each proxy in its own; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores; load average ${loadStart} at start, ${loadEnd} at end`);
  line('', (r) => r.name);
  line(ROUNDS > 1 ? `exchanges/s (median of ${ROUNDS} rounds)` : 'exchanges/s', (r) => eps(r).toFixed(0));
  if (ROUNDS > 1) line('exchanges/s, each round in run order', (r) => roundsOf(r.name).map((x) => eps(x).toFixed(0)).join(' '));
  line('MB/s (request + response bodies, 10^6 B)', (r) => ((r.sentBytes + r.receivedBytes) / 1e6 / (r.ms / 1000)).toFixed(1));
  line('% of direct', (r) => (direct ? `${(100 * eps(r) / eps(direct)).toFixed(0)} %` : dash));
  line('× mitmdump -w', (r) => (mitmW ? `${(eps(r) / eps(mitmW)).toFixed(2)}×` : dash));
  line('proxy CPU per exchange (all threads)', (r) => (r.proxyCpuMs !== undefined ? `${(r.proxyCpuMs / COUNT).toFixed(2)} ms` : dash));
  line('  its main thread / busiest other / the rest', (r) => (r.threads
    ? [r.threads.main, r.threads.busiest, r.threads.rest].map((ms) => (ms / COUNT).toFixed(2)).join('/')
    : dash));
  line('bench CPU per exchange (client + fake)', (r) => `${(r.benchCpuMs / COUNT).toFixed(2)} ms`);
  line('stop after the last answer (drain, close)', (r) => (r.stopMs !== undefined ? `${r.stopMs.toFixed(0)} ms` : dash));
  line('exchanges/s including that stop', (r) => (r.stopMs !== undefined ? (COUNT / ((r.ms + r.stopMs) / 1000)).toFixed(0) : dash));
  line('written to disk (store files / flow file)', (r) => (r.written ? `${(r.written.bytes / 1e6).toFixed(1)} MB` : dash));
  line(`exchanges written whole (of ${COUNT + WARMUP})`, (r) => (r.written ? String(r.written.complete) : dash));
  // What a recorder really kept per second: exchanges stored whole, over the time including the stop.
  line('whole exchanges written/s, incl. the stop', (r) => (r.written && r.stopMs !== undefined ? (r.written.completeMeasured / ((r.ms + r.stopMs) / 1000)).toFixed(0) : dash));
  for (const r of runs) if (r.written) console.log(`  ${r.name}${ROUNDS > 1 ? `, round ${roundsOf(r.name).indexOf(r) + 1}` : ''}: ${r.written.summary}`);
  const exchange = (results[0].sentBytes + results[0].receivedBytes) / COUNT;
  console.log(`  one exchange is ${(exchange / 1e3).toFixed(0)} KB of bodies; warm-up included, ${COUNT + WARMUP} exchanges are ${((COUNT + WARMUP) * exchange / 1e6).toFixed(1)} MB`);
  const capture = results.find((r) => r.name === 'ours+capture');
  if (capture) {
    const whole = capture.written?.complete === COUNT + WARMUP;
    const target = whole && eps(capture) >= 400 && (!mitmW || eps(capture) > eps(mitmW));
    console.log(`  target (ours+capture ≥ 400 exchanges/s, every exchange stored whole${mitmW ? ', ahead of mitmdump -w' : ''}): ${target ? 'met' : 'MISS'}`);
  }
}

async function main(): Promise<void> {
  const unknown = ONLY.filter((c) => !(ALL as readonly string[]).includes(c));
  if (unknown.length > 0 || !Number.isInteger(COUNT) || COUNT < 1 || !Number.isInteger(ROUNDS) || ROUNDS < 1 || !Number.isInteger(WARMUP) || WARMUP < 0) {
    throw new Error(`usage: --count=N (≥ 1) --rounds=R (≥ 1) --warm-up=N (≥ 0) --only=${ALL.join(',')} --profile`);
  }
  const columns = ONLY as ColumnName[];
  const pki = createTestPki();
  // mitmproxy is reached by CONNECT 127.0.0.1:<port>: the fake's certificate names that address too.
  const cert = pki.serverCert([HOST, '127.0.0.1']);
  if (!new X509Certificate(cert.cert).subjectAltName?.includes('IP Address:127.0.0.1')) throw new Error('the fake certificate has no IP SAN 127.0.0.1');
  const upstream = await startFakeUpstream(cert);
  const fake: Fake = { port: upstream.port, ca: readFileSync(pki.caCertPath), caPath: pki.caCertPath };
  // The fake records every request; this run does not need them kept.
  const forget = (): void => { upstream.requests.length = 0; };
  const bodies = makeBodies(WARMUP + COUNT);
  const started: Started[] = [];
  try {
    const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const runs: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round in reverse order, so that a trend in the machine's load favours no column.
      for (const name of round % 2 === 0 ? columns : [...columns].reverse()) {
        process.stderr.write(`  ${ROUNDS > 1 ? `round ${round + 1}: ` : ''}${name}…\n`);
        const run = await runColumn(name, fake, bodies, forget);
        started.push(run.started);
        runs.push(run.result);
      }
    }
    const loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    // Read back only now, so no column runs beside a bench process holding a whole store.
    for (let i = 0; i < runs.length; i++) runs[i].written = await started[i].written?.({ bodies, responseSizes: runs[i].responseSizes });
    printTable(columns, runs, loadStart, loadEnd);
    if (PROFILE) console.log(`  CPU profiles: ${join(BENCH_DIR, 'results', 'profiles')}/capture-ingest-{forward,capture}/ (node --import tsx bench/profile-summary.ts FILE…)`);
  } finally {
    for (const s of started) s.cleanup?.();
    await upstream.close();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

process.on('exit', killAll);
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
