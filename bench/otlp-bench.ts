// What the live OTLP export (`llm-capture proxy --otlp-endpoint`) costs the traffic it watches. The
// same Claude Code-shaped traffic goes through the real CLI proxy in a child process, once per column
// and round (every other round in reverse order, so a trend in the machine's load favours no column):
//   direct            client → fake Messages API, no proxy: the baseline of every "added" figure
//   capture           the proxy capturing to disk, no export
//   otlp-up           with --otlp-endpoint to a fake collector that answers
//   otlp-down-refuse  the collector refuses connections the whole time
//   otlp-down-hang    the collector accepts, reads, and never answers the whole time
// The export loop runs on the proxy's main thread beside the recorder; forwarding runs on the
// proxy's worker thread. A figure that moves between `capture` and an otlp column is that loop (and
// the session assembly it needs) reaching the forwarding path. Nothing is asserted.
// Run: npx tsx bench/otlp-bench.ts [--calls=N] [--rounds=R]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeCollector, type FakeCollector } from '../test/support/fake-otlp-collector';
import { createTestPki } from '../test/support/test-pki';
import type { Fake } from './capture-ingest/launch';
import { get, ms, TunnelAgent, type Route } from './client';
import { cpuNs } from './measure';
import { jsonLine, killAll, nodeArgs, ROOT, startChild, stopProcess } from './processes';
import { summarize } from './report';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const CALLS = Number(arg('calls') ?? 300);
const ROUNDS = Number(arg('rounds') ?? 2);
/** Sessions at once (a few agents side by side), each a keep-alive connection of its own. */
const SLOTS = 4;
/** Tool turns per session: a call answered with tool_use, then one carrying its result (4 spans a turn with the agent's). */
const TOOL_TURNS = 3;
const GAP_MS = 2;
const WARMUP_CALLS = 4;
const HOST = 'api.anthropic.com';
const COLUMNS = ['direct', 'capture', 'otlp-up', 'otlp-down-refuse', 'otlp-down-hang'] as const;
type ColumnName = (typeof COLUMNS)[number];
const SYSTEM = [{ type: 'text', text: 'You are Claude Code, an interactive CLI tool that helps users with software engineering tasks. '.repeat(60) }];
const TOOLS = ['Bash', 'Read', 'Edit', 'Grep', 'Glob'].map((name) => ({ name, description: `The ${name} tool. `.repeat(40), input_schema: { type: 'object', properties: { command: { type: 'string' } } } }));

interface Run {
  column: ColumnName;
  /** One-way time of every event but a stream's first (fake's write → client's receipt), ms. */
  events: number[];
  /** Request written → first byte of the answer, ms. */
  ttfb: number[];
  ms: number;
  cpuNs?: number;
  stopMs?: number;
  spans?: { duringTraffic: number; total: number; unique: number; expected: number; twice: string };
  /** Seconds from the start of the measured traffic to the proxy's first "export failed" line. */
  failedAfterS?: number;
  note?: string;
}

interface Column {
  route: Route;
  pid?: number;
  /** Stops the proxy; resolves with the time it took. */
  stop(): Promise<number>;
  failedAt(): number | undefined;
}

let sessionSeq = 0;

async function startColumn(name: ColumnName, fake: Fake, collector: FakeCollector | undefined): Promise<Column> {
  if (name === 'direct') return { route: { connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: fake.ca }, stop: async () => 0, failedAt: () => undefined };
  const dataDir = mkdtempSync(join(tmpdir(), `llmc-otlp-bench-${name}-`));
  const otlp = collector ? ['--otlp-endpoint', collector.url, '--otlp-agent-idle', '1'] : [];
  const { child, ready } = await startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'proxy', '--data-dir', dataDir, '--only-mapped',
    '--upstream-ca', fake.caPath, '--intercept', HOST, '--map', `${HOST}:443=127.0.0.1:${fake.port}`, '--quiet', ...otlp], { readyFrom: (line) => /listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1] });
  let failedAt: number | undefined;
  child.proc.stderr?.on('data', (d: Buffer) => { if (failedAt === undefined && /OTLP export to .* failed/.test(d.toString())) failedAt = performance.now(); });
  return {
    // As an agent drives it: CONNECT api.anthropic.com:443, the proxy's --map dials the fake.
    route: { proxyPort: Number(ready), connectHost: HOST, connectPort: 443, servername: HOST, ca: readFileSync(join(dataDir, 'ca.pem')) },
    pid: child.proc.pid,
    failedAt: () => failedAt,
    stop: async () => {
      const started = performance.now();
      try {
        await stopProcess(child.proc, { killAfterMs: 15_000, mustSucceed: true });
        return performance.now() - started;
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

type Message = { role: 'user' | 'assistant'; content: object[] };

type Block = Record<string, unknown>;
type SseData = { type: string; index?: number; content_block?: Block; delta?: Record<string, string> };

/** The answer's content blocks rebuilt from its events, as a client sends them back as history. */
function blocksOf(events: string[]): Block[] {
  const blocks: Block[] = [];
  for (const event of events) {
    const e = JSON.parse(event.slice(event.indexOf('data: ') + 6)) as SseData;
    const i = e.index ?? 0;
    if (e.type === 'content_block_start' && e.content_block) blocks[i] = { ...e.content_block };
    const d = e.type === 'content_block_delta' ? e.delta : undefined;
    if (d?.type === 'text_delta') blocks[i].text = `${String(blocks[i].text)}${d.text}`;
    if (d?.type === 'thinking_delta') blocks[i].thinking = `${String(blocks[i].thinking)}${d.thinking}`;
    if (d?.type === 'signature_delta') blocks[i].signature = d.signature;
    if (d?.type === 'input_json_delta') blocks[i].partial = `${String(blocks[i].partial ?? '')}${d.partial_json}`;
  }
  return blocks.map(({ partial, ...b }) => (partial !== undefined ? { ...b, input: JSON.parse(String(partial)) as unknown } : b));
}

/** One streamed Messages call of `deltas` deltas (~deltas + 6..14 events); returns the answer's content blocks. */
async function call(agent: TunnelAgent, route: Route, session: string, messages: Message[], deltas: number, run: Run | undefined): Promise<Block[]> {
  const body = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 32000, stream: true, system: SYSTEM, tools: TOOLS, metadata: { user_id: `user_bench_account__session_${session}` }, messages });
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': 'sk-ant-api03-bench-0123456789', 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': session, 'user-agent': 'claude-cli/2.1.197 (external, cli)' };
  let pending = '';
  const events: string[] = [];
  const oneWay: number[] = [];
  const ex = await get(agent, route, `/v1/messages?beta=true&deltas=${deltas}&gap=${GAP_MS}`, (chunk, at) => {
    pending += chunk.toString('utf8');
    for (let end: number; (end = pending.indexOf('\n\n')) >= 0;) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const t = /"t":"(\d+)"/.exec(event);
      // The first event left with the response head: it is the time to first byte, counted there.
      if (t && events.length > 0) oneWay.push(ms(at - BigInt(t[1])));
      events.push(event);
    }
  }, 30_000, { method: 'POST', headers, body });
  if (ex.status !== 200 || events.length < deltas) throw new Error(`${session}: status ${ex.status}, ${events.length} events`);
  run?.events.push(...oneWay);
  run?.ttfb.push(ms(ex.firstByte - ex.sent));
  // Parsed after the stream, so that the client's own work never delays a receipt time.
  return blocksOf(events);
}

/** `calls` calls (even), SLOTS sessions at a time, each session up to TOOL_TURNS tool turns; returns the sessions started. */
async function drive(route: Route, calls: number, run: Run | undefined): Promise<number> {
  let claimed = 0;
  let sessions = 0;
  const session = async (): Promise<void> => {
    const id = `0b7e5c00-0000-4000-8000-${String(++sessionSeq).padStart(12, '0')}`;
    sessions++;
    const agent = new TunnelAgent(route);
    const messages: Message[] = [];
    try {
      // The check and the claim happen before any await, so a session never starts without a turn.
      for (let turn = 0; turn < TOOL_TURNS && claimed + 2 <= calls; turn++) {
        const n = (claimed += 2);
        messages.push({ role: 'user', content: [{ type: 'text', text: `Turn ${turn} of ${id}: please run the tests and fix what fails.` }] });
        const asked = await call(agent, route, id, messages, 20 + ((n * 37) % 70), run);
        const toolId = asked.find((b) => b.type === 'tool_use')?.id;
        if (typeof toolId !== 'string') throw new Error(`${id}: no tool_use in the answer`);
        messages.push({ role: 'assistant', content: asked }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: 'total 0\n'.repeat(50) }] });
        messages.push({ role: 'assistant', content: await call(agent, route, id, messages, 20 + (((n + 1) * 37) % 70), run) });
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: SLOTS }, async () => {
    while (claimed + 2 <= calls) await session();
  }));
  return sessions;
}

async function runColumn(name: ColumnName, fake: Fake): Promise<Run> {
  const collector = name.startsWith('otlp') ? await startFakeCollector() : undefined;
  // Down from before the proxy starts, for the whole run.
  if (name === 'otlp-down-refuse') collector?.setDown('refuse');
  if (name === 'otlp-down-hang') collector?.setDown('hang');
  const run: Run = { column: name, events: [], ttfb: [], ms: 0 };
  let column: Column | undefined;
  try {
    column = await startColumn(name, fake, collector);
    // Not counted: connections, certificates, JIT, and the OpenTelemetry packages the export loads after "listening".
    const warmSessions = await drive(column.route, WARMUP_CALLS, undefined);
    const cpuBefore = cpuNs(column.pid);
    const started = performance.now();
    const sessions = await drive(column.route, CALLS, run);
    run.ms = performance.now() - started;
    const cpuAfter = cpuNs(column.pid);
    if (cpuBefore !== undefined && cpuAfter !== undefined) run.cpuNs = cpuAfter - cpuBefore;
    const failedAt = column.failedAt();
    if (failedAt !== undefined) run.failedAfterS = (failedAt - started) / 1000;
    if (name === 'otlp-up' && collector) {
      // Per session: its agent span, a chat span per call, an execute_tool span per tool turn.
      const all = WARMUP_CALLS + CALLS;
      const expected = warmSessions + sessions + all + all / 2;
      const duringTraffic = collector.spans().length;
      // The last spans are ready once their session was idle 1 s and the export's 5 s settling passed.
      await collector.waitFor(() => collector.spans().length >= expected, 20_000).catch(() => undefined);
      run.stopMs = await column.stop();
      // Span ids are derived from the session, so one sent twice shows as a repeated id: name which.
      const seen = new Set<string>();
      const twice: string[] = [];
      for (const x of collector.spans()) if (seen.has(x.spanId)) twice.push(x.name); else seen.add(x.spanId);
      run.spans = { duringTraffic, total: seen.size + twice.length, unique: seen.size, expected, twice: [...new Set(twice)].join(', ') };
    } else if (column.pid !== undefined) {
      run.stopMs = await column.stop();
    }
  } catch (e) {
    run.note = e instanceof Error ? e.message : String(e);
    await column?.stop().catch(() => undefined);
  } finally {
    await collector?.close();
  }
  return run;
}

const median = (values: number[]): number | undefined => (values.length > 0 ? summarize(values).median : undefined);

function printTable(runs: Run[], loadStart: number): void {
  const of = (c: ColumnName): Run[] => runs.filter((r) => r.column === c && !r.note && r.events.length > 0);
  const pct = (xs: number[], p: 'median' | 'p99'): number => summarize(xs)[p];
  /** The median over rounds of a per-round figure. */
  const fig = (c: ColumnName, f: (r: Run) => number | undefined): number | undefined => median(of(c).map(f).filter((v): v is number => v !== undefined));
  /** Paired with direct's run of the same round (the k-th of each), then the median over rounds. */
  const added = (c: ColumnName, f: (r: Run) => number): number | undefined => {
    const direct = of('direct');
    return median(of(c).slice(0, direct.length).map((r, k) => f(r) - f(direct[k])));
  };
  const rows: [string, (c: ColumnName) => number | undefined, number][] = [
    ['event one-way, p50 (ms)', (c) => fig(c, (r) => pct(r.events, 'median')), 3],
    ['event one-way, p99 (ms)', (c) => fig(c, (r) => pct(r.events, 'p99')), 3],
    ['added per event vs direct, p50 (ms)', (c) => added(c, (r) => pct(r.events, 'median')), 3],
    ['added per event vs direct, p99 (ms)', (c) => added(c, (r) => pct(r.events, 'p99')), 3],
    ['TTFB, p50 (ms)', (c) => fig(c, (r) => pct(r.ttfb, 'median')), 2],
    ['TTFB, p99 (ms)', (c) => fig(c, (r) => pct(r.ttfb, 'p99')), 2],
    ['exchanges/s', (c) => fig(c, (r) => CALLS / (r.ms / 1000)), 1],
    ['proxy CPU per exchange, all threads (ms)', (c) => fig(c, (r) => (r.cpuNs === undefined ? undefined : r.cpuNs / 1e6 / CALLS)), 2],
    ['stop: SIGTERM → exit (ms)', (c) => fig(c, (r) => r.stopMs), 0],
  ];
  const cells = (f: (c: ColumnName) => string): string => COLUMNS.map((c) => f(c).padStart(18)).join('');
  const line = (label: string, f: (c: ColumnName) => string): void => console.log(`  ${label.padEnd(42)}${cells(f)}`);
  const fmt = (v: number | undefined, digits: number): string => (v === undefined ? '–' : v.toFixed(digits));
  console.log(`\nOTLP export bench: ${CALLS} streamed Messages calls per column and round (${SLOTS} sessions at a time, ${TOOL_TURNS} tool turns each, 34–103 events ${GAP_MS} ms apart), after ${WARMUP_CALLS} warm-up calls`);
  console.log(`median over ${ROUNDS} round(s) (nearest rank: of 2, the lower); load average ${loadStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`);
  line('', (c) => c);
  for (const [label, f, digits] of rows) line(label, (c) => fmt(f(c), digits));
  line('added per event p50, each round (ms)', (c) => of(c).slice(0, of('direct').length).map((r, k) => (pct(r.events, 'median') - pct(of('direct')[k].events, 'median')).toFixed(3)).join(' '));
  const capture = Object.fromEntries(rows.map(([label, f]) => [label, f('capture')]));
  for (const [label, f] of rows.slice(2, 8)) {
    line(`× capture: ${label.replace(/ \(ms\)$/, '').replace(' vs direct', '')}`, (c) => {
      const base = capture[label];
      const v = c.startsWith('otlp') ? f(c) : undefined;
      return v === undefined || base === undefined || base <= 0 ? '–' : `${(v / base).toFixed(2)}×`;
    });
  }
  for (const r of runs.filter((x) => x.spans)) {
    const s = r.spans!;
    console.log(`  otlp-up round ${runs.filter((x) => x.column === 'otlp-up').indexOf(r) + 1}: ${s.total} spans received (${s.duringTraffic} while the traffic ran), ${s.expected} expected; ${s.unique} unique span ids, ${s.total - s.unique} sent again${s.twice ? ` (${s.twice})` : ''}`);
  }
  for (const r of runs.filter((x) => x.column.startsWith('otlp-down'))) {
    console.log(`  ${r.column}: first "export failed" line ${r.failedAfterS === undefined ? 'not seen during the traffic' : `${r.failedAfterS.toFixed(1)} s into ${(r.ms / 1000).toFixed(1)} s of traffic`}`);
  }
  for (const r of runs.filter((x) => x.note)) console.log(`  ${r.column}: failed: ${r.note}`);
}

async function main(): Promise<void> {
  if (!Number.isInteger(CALLS) || CALLS < 2 || CALLS % 2 !== 0 || !Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('usage: --calls=N (even, ≥ 2) --rounds=R (≥ 1)');
  const loadStart = loadavg()[0];
  const pki = createTestPki();
  const leaf = pki.serverCert([HOST]);
  const keyPath = join(pki.dir, 'fake.key');
  const certPath = join(pki.dir, 'fake.pem');
  writeFileSync(keyPath, leaf.key, { mode: 0o600 });
  writeFileSync(certPath, leaf.cert);
  // The fake in its own process, as in bench/run.ts: its pacing timers share no loop with the client.
  const { child: fakeChild, ready } = await startChild(process.execPath, nodeArgs('fake-upstream.ts', [keyPath, certPath]), { readyFrom: jsonLine });
  const fake: Fake = { port: (ready as { port: number }).port, ca: Buffer.from(pki.caCert), caPath: pki.caCertPath };
  const runs: Run[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? COLUMNS : [...COLUMNS].reverse()) {
        process.stderr.write(`  round ${round + 1}: ${name}…\n`);
        runs.push(await runColumn(name, fake));
      }
    }
  } finally {
    await fakeChild.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
  printTable(runs, loadStart);
}

process.on('exit', killAll);
setTimeout(() => {
  console.error('otlp-bench: still running after 300 s, giving up');
  process.exit(1);
}, 300_000).unref();
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
