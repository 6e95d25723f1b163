// Load: N concurrent SSE streams (default 1,000) through each column, one column after the other in
// the same run, against the same fake:
//   direct        client → fake upstream, no proxy: the baseline every "added" figure subtracts
//   ours          our proxy forwarding only (bench/capture-ingest/ours-child.ts, startProxy)
//   ours+capture  CaptureService: proxy thread, recorder, store on disk (the product path)
//   mitmdump-w    mitmdump -w FILE, streaming (see bench/load/columns.ts)
// Each stream is a POST on a CONNECT tunnel of its own (HTTP/1.1 holds a connection per streaming
// answer), answered by test/support/sse-load-upstream.ts in a child process: message_start, then,
// once all N streams have arrived, DELTAS content_block_delta events GAP ms apart, message_delta,
// message_stop and a digest of the whole stream. Every delta is stamped with the fake's hrtime
// just before its write; the client subtracts it from its own hrtime at receipt (bench/README.md,
// "SSE event one-way"). Prints streams completed, bytes verified, per-event one-way time and what
// each proxy adds to direct's (median, p99), the proxy's peak RSS and CPU, wall time; asserts nothing.
// Run: npx tsx bench/load-bench.ts [--streams=N] [--deltas=N] [--gap-ms=MS] [--only=direct,ours,ours+capture,mitmdump-w]
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTls } from './client';
import { COLUMNS, HOST, processCpuMs, startColumn, watchPeakRss, type ColumnName, type Fake, type Started } from './load/columns';
import { jsonLine, killAll, nodeArgs, startChild } from './processes';
import { summarize, type Summary } from './report';
import { runLoad, type StreamResult } from '../test/support/sse-load-client';
import { createTestPki } from '../test/support/test-pki';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const STREAMS = Number(arg('streams') ?? 1000);
const DELTAS = Number(arg('deltas') ?? 20);
const GAP_MS = Number(arg('gap-ms') ?? 5);
const ONLY = (arg('only') ?? COLUMNS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
// Only catches a hang: a column whose streams are not all over by then fails.
const STREAM_TIMEOUT_MS = 180_000;

interface Result {
  name: ColumnName;
  completed: number;
  verifiedBytes: number;
  events?: Summary;
  /** First connect → last stream's end. */
  wallMs: number;
  peakRssMb?: number;
  proxyCpuMs?: number;
  stopMs?: number;
  written?: string;
  error?: string;
}

async function runColumn(name: ColumnName, fake: Fake, batch: string): Promise<{ result: Result; started?: Started; received?: Map<string, string> }> {
  let started: Started | undefined;
  try {
    started = await startColumn(name, fake);
    const route = started.route;
    const rss = watchPeakRss(started.proc?.pid);
    const cpuBefore = processCpuMs(started.proc?.pid);
    const t0 = performance.now();
    let results: StreamResult[];
    try {
      results = await runLoad(async () => (await openTls(route, STREAM_TIMEOUT_MS)).socket, { count: STREAMS, host: HOST, batch, timeoutMs: STREAM_TIMEOUT_MS });
    } finally {
      // The peak of the run itself, read before the stop can end the process.
      rss.peakMb();
    }
    const wallMs = performance.now() - t0;
    const cpuAfter = processCpuMs(started.proc?.pid);
    const stopStarted = performance.now();
    await started.stop();
    const stopMs = performance.now() - stopStarted;
    rss.stop();
    const whole = results.filter((r) => r.status === 200 && r.whole && r.delaysMs.length === DELTAS);
    const delays = whole.flatMap((r) => r.delaysMs);
    return {
      started,
      received: new Map(results.map((r) => [r.id, r.sha256])),
      result: {
        name, completed: whole.length, verifiedBytes: whole.reduce((sum, r) => sum + r.bytes, 0),
        events: delays.length > 0 ? summarize(delays) : undefined, wallMs, peakRssMb: rss.peakMb(),
        proxyCpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
        stopMs: started.proc ? stopMs : undefined,
      },
    };
  } catch (e) {
    await started?.stop().catch(() => undefined);
    return { started, result: { name, completed: 0, verifiedBytes: 0, wallMs: 0, error: e instanceof Error ? e.message : String(e) } };
  }
}

function printTable(results: Result[], loadStart: string, loadEnd: string): void {
  const direct = results.find((r) => r.name === 'direct');
  const dash = '–';
  const width = 16;
  const line = (label: string, cell: (r: Result) => string): void =>
    console.log(`  ${label.padEnd(42)}${results.map((r) => (r.error ? dash : cell(r)).padStart(width)).join('')}`);
  const ms = (x: number | undefined, digits = 2): string => (x === undefined ? dash : `${x.toFixed(digits)} ms`);
  const added = (r: Result, pick: (s: Summary) => number): string =>
    (r.name === 'direct' || !r.events || !direct?.events ? dash : ms(pick(r.events) - pick(direct.events), 3));
  console.log(`load: ${STREAMS} concurrent SSE streams, each a CONNECT tunnel of its own; ${DELTAS} content_block_delta ${GAP_MS} ms apart once all ${STREAMS} have arrived`);
  console.log(`client in this process, fake upstream and each proxy in their own; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores; load average ${loadStart} at start, ${loadEnd} at end`);
  line('', (r) => r.name);
  line(`streams complete and verified (of ${STREAMS})`, (r) => String(r.completed));
  line('bytes verified (sha256 per stream)', (r) => `${(r.verifiedBytes / 1e6).toFixed(2)} MB`);
  line('event one-way, median', (r) => ms(r.events?.median));
  line('event one-way, p99', (r) => ms(r.events?.p99));
  line('event one-way, max', (r) => ms(r.events?.max));
  line('added per event vs direct, median', (r) => added(r, (s) => s.median));
  line('added per event vs direct, p99', (r) => added(r, (s) => s.p99));
  line('peak RSS of the proxy process (VmHWM)', (r) => (r.peakRssMb === undefined ? dash : `${r.peakRssMb.toFixed(0)} MB`));
  line('proxy CPU over the run (all threads)', (r) => (r.proxyCpuMs === undefined ? dash : `${(r.proxyCpuMs / 1000).toFixed(1)} s`));
  line('wall time (first connect → last stream end)', (r) => `${(r.wallMs / 1000).toFixed(2)} s`);
  line('wall time × direct', (r) => (direct && !direct.error ? `${(r.wallMs / direct.wallMs).toFixed(2)}×` : dash));
  line('stop after the last stream (drain, close)', (r) => ms(r.stopMs, 0));
  for (const r of results) {
    if (r.error) console.log(`  ${r.name}: FAILED: ${r.error.split('\n')[0]}`);
    else if (r.written) console.log(`  ${r.name}: ${r.written}`);
  }
  console.log(`  one-way = client's hrtime at receipt − the fake's hrtime just before the write; ${direct?.events?.n ?? 0} events measured direct`);
}

async function main(): Promise<void> {
  const unknown = ONLY.filter((c) => !(COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0 || !(STREAMS >= 1) || !(DELTAS >= 1) || !(GAP_MS >= 0)) {
    throw new Error(`usage: --streams=N --deltas=N --gap-ms=MS --only=${COLUMNS.join(',')}`);
  }
  const pki = createTestPki();
  // mitmdump is reached by CONNECT 127.0.0.1:<port>: the fake's certificate names that address too.
  const cert = pki.serverCert([HOST, '127.0.0.1']);
  if (!new X509Certificate(cert.cert).subjectAltName?.includes('IP Address:127.0.0.1')) throw new Error('the fake certificate has no IP SAN 127.0.0.1');
  writeFileSync(join(pki.dir, 'load.key'), cert.key);
  writeFileSync(join(pki.dir, 'load.pem'), cert.cert);
  const { child: fakeChild, ready } = await startChild(process.execPath,
    nodeArgs('load/fake-child.ts', [join(pki.dir, 'load.key'), join(pki.dir, 'load.pem'), String(DELTAS), String(GAP_MS)]), { readyFrom: jsonLine });
  const fake: Fake = { port: (ready as { port: number }).port, ca: readFileSync(pki.caCertPath), caPath: pki.caCertPath };
  const started: Started[] = [];
  try {
    const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const runs: { result: Result; started?: Started; received?: Map<string, string> }[] = [];
    for (const name of ONLY as ColumnName[]) {
      process.stderr.write(`  ${name}…\n`);
      const run = await runColumn(name, fake, name.replace(/\W/g, '_'));
      if (run.started) started.push(run.started);
      runs.push(run);
      if (run.result.error) process.stderr.write(`  ${name} failed: ${run.result.error}\n`);
    }
    const loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    // Read back only now, so that no column ran beside a bench process holding a whole store.
    for (const run of runs) {
      if (run.received && run.started?.written) run.result.written = await run.started.written(run.received);
    }
    printTable(runs.map((r) => r.result), loadStart, loadEnd);
  } finally {
    for (const s of started) s.cleanup();
    await fakeChild.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

process.on('exit', killAll);
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
