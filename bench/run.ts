// The benchmark: our proxy against a direct connection, mitmproxy and mockttp, measured side by
// side in one run on loopback. Prints a table and writes bench/results/latest.json.
// Usage: npm run bench [-- --quick] [-- --only=direct,ours]   (see bench/README.md)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { CANDIDATES, launchFakeUpstream, NEW_HOST_COUNT, type Running } from './candidates';
import { lane, measureAll, type Lane, type Settings } from './measure';
import { BENCH_DIR, killAll } from './processes';
import { table, verdicts, verdictText, type Column } from './report';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const BUDGET_MS = 170_000;
const started = Date.now();

const settings: Settings = quick
  ? { sseEvents: 300, sseRounds: 2, sseGapMs: 2, sseSkip: 5, ttfbRuns: 10, bulkBytes: 20_000_000, bulkRuns: 1, newHosts: 5, cachedHandshakes: 10 }
  : { sseEvents: 2000, sseRounds: 10, sseGapMs: 2, sseSkip: 5, ttfbRuns: 40, bulkBytes: 100_000_000, bulkRuns: 5, newHosts: NEW_HOST_COUNT, cachedHandshakes: 50 };

const FAIRNESS = [
  'All processes on 127.0.0.1; the fake upstream, ours and mockttp each run in a Node child process, mitmproxy in its own.',
  'No DNS anywhere. mitmproxy and mockttp get CONNECT 127.0.0.1:<fake port> with TLS SNI and Host set to the wanted name:',
  '  they dial that address, mint for the SNI name and verify the fake against it. Ours decides by the CONNECT host, so it gets',
  '  CONNECT <name>:443 and a --map entry per name to 127.0.0.1:<fake port> (exact-match table), as its own tests do.',
  'Every proxy verifies the fake\'s certificate against the fake\'s CA (ours: upstreamCaFiles; mitmproxy: ssl_verify_upstream_trusted_ca; mockttp: additionalTrustedCAs).',
  'The client offers only http/1.1 (ALPN), trusts only the column\'s CA, and never resumes TLS sessions.',
  'mitmproxy: stream_large_bodies=1, flow_detail=0, termlog_verbosity=warn; mockttp: recordTraffic=false; otherwise defaults.',
  'SSE: one-way time = client receipt − fake write (process.hrtime, a machine-wide monotonic clock); "added" = proxy percentile − direct percentile.',
  'All columns run at once and are sampled round-robin, so the machine\'s slow spells hit every column alike.',
  'TTFB and SSE run on a warm keep-alive connection; handshakes use a new connection each; the new-host series is each proxy\'s first sight of the name.',
  'Throughput: % of direct is the median of per-round ratios (each run ÷ direct\'s run of the same round); bodies are streamed, never held.',
];

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function main(): Promise<number> {
  const deadline = started + BUDGET_MS - 10_000;
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    /** Scheduling priority of the whole run (`--nice` makes it -10). */
    nice: getPriority(),
    loadAverageAtStart: loadavg()[0],
    loadAverageAtEnd: 0,
    versions: Object.fromEntries(CANDIDATES.map((c) => [c.name, c.unavailable() ? 'unavailable' : c.version()])),
  };
  log(`LLM Capture proxy bench${quick ? ' (quick)' : ''}: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, Linux ${machine.kernel}`);
  log(`versions: ${Object.values(machine.versions).join(', ')}`);
  log(`settings: ${JSON.stringify(settings)}, nice ${machine.nice}`);
  // Absolute times on a shared 2-core machine move with whatever else runs; the relative figures
  // (added ms, % of direct) hold up better because the columns are interleaved.
  if (machine.loadAverageAtStart > 0.7) log(`warning: load average ${machine.loadAverageAtStart.toFixed(2)} at start: other work is running, absolute figures will be noisy`);

  const upstream = await launchFakeUpstream(['api.anthropic.com', '*.bench.test', 'localhost', '127.0.0.1']);
  const { fake } = upstream;
  log(`fake upstream on 127.0.0.1:${fake.port}\n`);

  // Every column runs at once (an idle proxy costs nothing) and is measured round-robin.
  const columns: Column[] = [];
  const lanes: Lane[] = [];
  const running: Running[] = [];
  try {
    for (const candidate of CANDIDATES) {
      if (only && !only.includes(candidate.name)) continue;
      const why = candidate.unavailable();
      if (why) {
        log(`${candidate.name}: skipped — ${why}`);
        columns.push({ name: candidate.name, skipped: why });
        continue;
      }
      try {
        const r = await candidate.start(fake);
        running.push(r);
        const l = lane(candidate.name, r.routeFor, r.pid);
        lanes.push(l);
        columns.push({ name: candidate.name, result: l.result });
        log(`${candidate.name}: started`);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log(`${candidate.name}: could not start — ${message}`);
        columns.push({ name: candidate.name, skipped: `could not start: ${message.split('\n')[0]}` });
      }
    }
    log('measuring, all columns round-robin:');
    await measureAll(lanes, settings, deadline, log);
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    await upstream.stop();
  }

  machine.loadAverageAtEnd = loadavg()[0];
  const checks = verdicts(columns);
  log(`\n${table(columns)}\n`);
  if (checks.length > 0) log(`Targets for our proxy (reported, not asserted):\n${verdictText(checks)}\n`);
  log(`Fairness choices:\n${FAIRNESS.map((f) => `  ${f}`).join('\n')}`);
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'latest.json');
  const report = { date: new Date().toISOString(), quick, seconds: (Date.now() - started) / 1000, machine, settings, fairness: FAIRNESS, columns, targets: checks };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nload average (1 min): ${machine.loadAverageAtStart.toFixed(2)} at start, ${machine.loadAverageAtEnd.toFixed(2)} at end (includes the bench itself)`);
  log(`written: ${file} (${report.seconds.toFixed(0)} s)`);
  return 0;
}

// However the run ends, no child outlives it; and it never runs past its budget.
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
setTimeout(() => {
  console.error(`bench: still running after ${BUDGET_MS / 1000} s, giving up`);
  process.exit(1);
}, BUDGET_MS).unref();

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
