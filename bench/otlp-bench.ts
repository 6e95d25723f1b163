// What the live OTLP export (`llm-capture proxy --otlp-endpoint`) costs the traffic it watches: the
// same Claude Code-shaped traffic (streamed Messages calls with tool turns, a session id header)
// through the real CLI proxy, one child process per column, all started at once and measured in
// turn, every other round in reverse order (a trend in the machine's load favours no column):
//   direct            client → fake Messages API, no proxy: the baseline of every "added" figure
//   capture           the proxy capturing to disk, no export
//   otlp-up           with --otlp-endpoint to a fake collector that answers
//   otlp-down-refuse  the collector refuses connections the whole time
//   otlp-down-hang    the collector accepts, reads, and never answers the whole time
// The export loop runs on the proxy's main thread beside the recorder, and with it the session
// assembly it reads (a SessionFollower, which `capture` does not run); forwarding runs on the
// proxy's worker thread. So "× capture" is the cost of turning export on, assembly included, and
// the down columns against otlp-up are the cost of the outage alone. Nothing is asserted.
// Run: npx tsx bench/otlp-bench.ts [--calls=N] [--rounds=R]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeCollector, type FakeCollector } from '../test/support/fake-otlp-collector';
import type { Fake } from './capture-ingest/launch';
import { launchFakeUpstream } from './candidates';
import { get, ms, TunnelAgent, type Route } from './client';
import { cpuNs } from './measure';
import { killAll, ROOT, startChild, stopProcess } from './processes';
import { summarize } from './report';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** Calls per column and round. */
const CALLS = Number(arg('calls') ?? 100);
const ROUNDS = Number(arg('rounds') ?? 4);
/** Sessions at once (a few agents side by side), each on a keep-alive connection of its own. */
const SLOTS = 4;
/** Tool turns per session: a call answered with tool_use, then one carrying its result (with the agent's, 4 spans a turn). */
const TOOL_TURNS = 3;
const GAP_MS = 2;
const WARMUP_CALLS = 8;
const HOST = 'api.anthropic.com';
const COLUMNS = ['direct', 'capture', 'otlp-up', 'otlp-down-refuse', 'otlp-down-hang'] as const;
type ColumnName = (typeof COLUMNS)[number];
const SYSTEM = [{ type: 'text', text: 'You are Claude Code, an interactive CLI tool that helps users with software engineering tasks. '.repeat(60) }];
const TOOLS = ['Bash', 'Read', 'Edit', 'Grep', 'Glob'].map((name) => ({ name, description: `The ${name} tool. `.repeat(40), input_schema: { type: 'object', properties: { command: { type: 'string' } } } }));

/** One column's share of one round. */
interface Run {
  column: ColumnName;
  /** One-way time of every event but a stream's first (fake's write → client's receipt), ms. */
  events: number[];
  /** Request written → first byte of the answer, ms. */
  ttfb: number[];
  ms: number;
  /** The proxy's CPU time over the run, ns: all threads, and its main thread alone. */
  cpu?: Cpu;
}

type Cpu = { all: number; main: number };
/** Main thread: the recorder, the session assembly and the export; the others: the proxy's worker (forwarding), GC, libuv. */
const cpuOf = (pid: number | undefined): Cpu | undefined => (pid === undefined ? undefined : { all: cpuNs(pid) ?? NaN, main: cpuNs(pid, true) ?? NaN });
const minus = (a: Cpu | undefined, b: Cpu | undefined): Cpu | undefined => (a && b ? { all: a.all - b.all, main: a.main - b.main } : undefined);

interface Column {
  name: ColumnName;
  route: Route;
  pid?: number;
  collector?: FakeCollector;
  /** Sessions and calls sent so far, warm-up included: what the spans must account for. */
  sessions: number; calls: number;
  /** When the proxy first said the export failed (performance.now()). */
  failedAt?: number;
  cpuStart?: Cpu; cpuWhole?: Cpu; stopMs?: number;
  /** Stops the proxy (again: nothing); resolves with the time it took. */
  stop(): Promise<number>;
}

let sessionSeq = 0;

async function startColumn(name: ColumnName, fake: Fake, collector: FakeCollector | undefined): Promise<Column> {
  if (name === 'direct') return { name, route: { connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: fake.ca }, sessions: 0, calls: 0, stop: async () => 0 };
  const dataDir = mkdtempSync(join(tmpdir(), `llmc-otlp-bench-${name}-`));
  const otlp = collector ? ['--otlp-endpoint', collector.url, '--otlp-agent-idle', '1'] : [];
  const { child, ready } = await startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'proxy', '--data-dir', dataDir, '--only-mapped',
    '--upstream-ca', fake.caPath, '--intercept', HOST, '--map', `${HOST}:443=127.0.0.1:${fake.port}`, '--quiet', ...otlp], { readyFrom: (line) => /listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1] });
  const column: Column = {
    name, collector, sessions: 0, calls: 0, pid: child.proc.pid,
    // As an agent drives it: CONNECT api.anthropic.com:443, the proxy's --map dials the fake.
    route: { proxyPort: Number(ready), connectHost: HOST, connectPort: 443, servername: HOST, ca: readFileSync(join(dataDir, 'ca.pem')) },
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
  child.proc.stderr?.on('data', (d: Buffer) => { if (column.failedAt === undefined && /OTLP export to .* failed/.test(d.toString())) column.failedAt = performance.now(); });
  return column;
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

/** `calls` calls (even), SLOTS sessions at a time, each session up to TOOL_TURNS tool turns. */
async function drive(column: Column, calls: number, run: Run | undefined): Promise<void> {
  let claimed = 0;
  const session = async (): Promise<void> => {
    const id = `0b7e5c00-0000-4000-8000-${String(++sessionSeq).padStart(12, '0')}`;
    column.sessions++;
    const agent = new TunnelAgent(column.route);
    const messages: Message[] = [];
    try {
      // The check and the claim happen before any await, so a session never starts without a turn.
      for (let turn = 0; turn < TOOL_TURNS && claimed + 2 <= calls; turn++) {
        const n = (claimed += 2);
        column.calls += 2;
        messages.push({ role: 'user', content: [{ type: 'text', text: `Turn ${turn} of ${id}: please run the tests and fix what fails.` }] });
        const asked = await call(agent, column.route, id, messages, 20 + ((n * 37) % 70), run);
        const toolId = asked.find((b) => b.type === 'tool_use')?.id;
        if (typeof toolId !== 'string') throw new Error(`${id}: no tool_use in the answer`);
        // The history resends the answer as it came: a tool_use whose input differs is another tool call to the assembly.
        messages.push({ role: 'assistant', content: asked }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: 'total 0\n'.repeat(50) }] });
        messages.push({ role: 'assistant', content: await call(agent, column.route, id, messages, 20 + (((n + 1) * 37) % 70), run) });
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: SLOTS }, async () => {
    while (claimed + 2 <= calls) await session();
  }));
}

async function measure(column: Column): Promise<Run> {
  const run: Run = { column: column.name, events: [], ttfb: [], ms: 0 };
  const cpuBefore = cpuOf(column.pid);
  const started = performance.now();
  await drive(column, CALLS, run);
  run.ms = performance.now() - started;
  run.cpu = minus(cpuOf(column.pid), cpuBefore);
  return run;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(100)) if (Date.now() > deadline) return false;
  return true;
}

const median = (values: number[]): number | undefined => (values.length > 0 ? summarize(values).median : undefined);

function printTable(columns: Column[], runs: Run[], loadStart: number, outageS: number): void {
  const of = (c: ColumnName): Run[] => runs.filter((r) => r.column === c);
  const col = (c: ColumnName): Column => columns.find((x) => x.name === c)!;
  const pct = (xs: number[], p: 'median' | 'p99'): number => summarize(xs)[p];
  /** The median over rounds of a per-round figure. */
  const fig = (c: ColumnName, f: (r: Run) => number | undefined): number | undefined => median(of(c).map(f).filter((v): v is number => v !== undefined));
  /** Each round paired with direct's run of the same round, then the median over rounds. */
  const added = (c: ColumnName, f: (r: Run) => number): number | undefined => median(of(c).map((r, k) => f(r) - f(of('direct')[k])));
  const measured = ROUNDS * CALLS;
  const rows: [string, (c: ColumnName) => number | undefined, number][] = [
    ['event one-way, p50 (ms)', (c) => fig(c, (r) => pct(r.events, 'median')), 3],
    ['event one-way, p99 (ms)', (c) => fig(c, (r) => pct(r.events, 'p99')), 3],
    ['added per event vs direct, p50 (ms)', (c) => added(c, (r) => pct(r.events, 'median')), 3],
    ['added per event vs direct, p99 (ms)', (c) => added(c, (r) => pct(r.events, 'p99')), 3],
    ['TTFB, p50 (ms)', (c) => fig(c, (r) => pct(r.ttfb, 'median')), 2],
    ['TTFB, p99 (ms)', (c) => fig(c, (r) => pct(r.ttfb, 'p99')), 2],
    ['exchanges/s', (c) => fig(c, (r) => CALLS / (r.ms / 1000)), 1],
    ['proxy CPU per exchange, in its rounds (ms)', (c) => fig(c, (r) => (r.cpu ? r.cpu.all / 1e6 / CALLS : undefined)), 2],
    ['  of which its main thread (ms)', (c) => fig(c, (r) => (r.cpu ? r.cpu.main / 1e6 / CALLS : undefined)), 2],
    ['proxy CPU per exchange, whole run (ms)', (c) => { const w = col(c).cpuWhole; return w ? w.all / 1e6 / measured : undefined; }, 2],
    ['  of which its main thread (ms)', (c) => { const w = col(c).cpuWhole; return w ? w.main / 1e6 / measured : undefined; }, 2],
    ['stop: SIGTERM → exit (ms)', (c) => (c === 'direct' ? undefined : col(c).stopMs), 0],
  ];
  const width = Math.max(18, 5 * ROUNDS + 3);
  const line = (label: string, f: (c: ColumnName) => string): void => console.log(`  ${label.padEnd(44)}${COLUMNS.map((c) => f(c).padStart(width)).join('')}`);
  const fmt = (v: number | undefined, digits: number): string => (v === undefined ? '–' : v.toFixed(digits));
  console.log(`\nOTLP export bench: ${ROUNDS} rounds × ${CALLS} streamed Messages calls per column (${SLOTS} sessions at a time, ${TOOL_TURNS} tool turns each, 34–103 events ${GAP_MS} ms apart)`);
  console.log(`figures: median over the rounds (nearest rank); load average ${loadStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end; measuring began ${outageS.toFixed(1)} s after the warm-up, once both down columns had failed an export`);
  line('', (c) => c);
  for (const [label, f, digits] of rows) line(label, (c) => fmt(f(c), digits));
  line('added per event p50, round by round (ms)', (c) => of(c).map((r, k) => (pct(r.events, 'median') - pct(of('direct')[k].events, 'median')).toFixed(2)).join(' '));
  line('added per event p99, round by round (ms)', (c) => of(c).map((r, k) => (pct(r.events, 'p99') - pct(of('direct')[k].events, 'p99')).toFixed(1)).join(' '));
  for (const [label, f] of rows.slice(2, 11)) {
    line(`× capture: ${label.replace(/ \(ms\)$/, '').replace(' vs direct', '').replace('proxy ', '').trim()}`, (c) => {
      const base = f('capture');
      const v = c.startsWith('otlp') ? f(c) : undefined;
      return v === undefined || base === undefined || base <= 0 ? '–' : `${(v / base).toFixed(2)}×`;
    });
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(CALLS) || CALLS < 2 || CALLS % 2 !== 0 || !Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('usage: --calls=N (even, ≥ 2) --rounds=R (≥ 1)');
  const loadStart = loadavg()[0];
  const upstream = await launchFakeUpstream([HOST]);
  const { fake } = upstream;
  const columns: Column[] = [];
  const runs: Run[] = [];
  try {
    // Every proxy lives through the whole run: an outage is measured as it settles in (retries, backoff, a backlog), not its first seconds.
    for (const name of COLUMNS) {
      const collector = name.startsWith('otlp') ? await startFakeCollector() : undefined;
      if (name === 'otlp-down-refuse') collector?.setDown('refuse');
      if (name === 'otlp-down-hang') collector?.setDown('hang');
      columns.push(await startColumn(name, fake, collector));
    }
    // Not measured: connections, certificates, JIT, the OpenTelemetry packages the export loads after "listening".
    for (const c of columns) await drive(c, WARMUP_CALLS, undefined);
    // The warm-up's spans are ready ~6 s later (1 s idle, 5 s settling); a down collector fails the
    // export only after the exporter's own retries (10 s). Measure from then on, an outage under way.
    const warm = performance.now();
    const down = columns.filter((c) => c.name.startsWith('otlp-down'));
    if (!(await waitFor(() => down.every((c) => c.failedAt !== undefined), 45_000))) console.log('  note: a down column never said its export failed');
    const outageS = (performance.now() - warm) / 1000;
    for (const c of columns) c.cpuStart = cpuOf(c.pid);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? COLUMNS : [...COLUMNS].reverse()) {
        process.stderr.write(`  round ${round + 1}: ${name}…\n`);
        runs.push(await measure(columns.find((c) => c.name === name)!));
      }
    }
    // Per session: its agent span, a chat span per call, an execute_tool span per tool turn.
    const up = columns.find((c) => c.name === 'otlp-up')!;
    const expected = up.sessions + up.calls + up.calls / 2;
    await waitFor(() => (up.collector?.spans().length ?? 0) >= expected, 20_000);
    for (const c of columns) c.cpuWhole = minus(cpuOf(c.pid), c.cpuStart);
    await Promise.all(columns.map(async (c) => { c.stopMs = await c.stop(); }));
    printTable(columns, runs, loadStart, outageS);
    // Span ids are derived from the session, so a span sent twice shows as a repeated id.
    const seen = new Set<string>();
    const twice: string[] = [];
    for (const x of up.collector?.spans() ?? []) if (seen.has(x.spanId)) twice.push(x.name); else seen.add(x.spanId);
    console.log(`  otlp-up: ${seen.size + twice.length} spans received, ${expected} expected (${up.sessions} sessions, ${up.calls} calls); ${seen.size} unique span ids, ${twice.length} sent again${twice.length ? ` (${[...new Set(twice)].join(', ')})` : ''}`);
    for (const c of down) console.log(`  ${c.name}: first "export failed" line ${c.failedAt === undefined ? 'never seen' : `${((c.failedAt - warm) / 1000).toFixed(1)} s after the warm-up`} (an export request fails after the exporter's own retries, 10 s)`);
  } finally {
    await Promise.all(columns.map((c) => c.stop().catch(() => undefined)));
    for (const c of columns) await c.collector?.close();
    await upstream.stop();
  }
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
