// The four measurements, run the same way for every column (direct or through a proxy).
// Columns are interleaved sample by sample (round-robin), so a slow spell of this shared,
// 2-core machine lands on every column alike instead of on whichever ran at that moment.
// Every loop is bounded by a count and by the run's deadline; a failing column records the
// error for that measurement and the others go on.
import { readdirSync, readFileSync } from 'node:fs';
import { get, ms, TunnelAgent, type Route } from './client';
import { summarize, type Summary } from './report';

export interface Settings {
  sseEvents: number;
  sseRounds: number;
  sseGapMs: number;
  /** Events at the start of each stream left out of the per-event figures (stream warm-up). */
  sseSkip: number;
  ttfbRuns: number;
  bulkBytes: number;
  bulkRuns: number;
  newHosts: number;
  cachedHandshakes: number;
}

export interface ColumnResult {
  /** Request sent → first byte of the first SSE event, on a warm keep-alive connection (ms). */
  ttfb?: Summary;
  /** One-way time of each SSE event, fake's write → client's receipt (ms). */
  sseEvent?: Summary;
  /** MB/s of each run, in round order (paired with direct's by index); best and median of them. */
  throughput?: { runsMBps: number[]; bestMBps: number; medianMBps: number };
  /** CONNECT sent (direct: TCP connect began) → TLS secureConnect (ms). */
  handshakeNew?: Summary;
  handshakeCached?: Summary;
  /** Connection start → end of a small GET on that new connection (ms): includes any lazy upstream dial. */
  firstRequestNew?: Summary;
  /** The proxy process's CPU time (all threads) per SSE event streamed, in µs. */
  proxyCpuPerEventUs?: number;
  /** The proxy process's CPU time per MB of the bulk body, in ms. */
  proxyCpuPerMBms?: number;
  errors: string[];
}

export type RouteFor = (host: string) => Route;

/** One column while it is measured: its keep-alive connection and what it has gathered. */
export interface Lane {
  name: string;
  routeFor: RouteFor;
  route: Route;
  agent: TunnelAgent;
  result: ColumnResult;
  failed: Set<string>;
  /** The proxy's process id, whose CPU time is read around the SSE and bulk samples. */
  pid?: number;
}

export function lane(name: string, routeFor: RouteFor, pid?: number): Lane {
  const route = routeFor('api.anthropic.com');
  return { name, routeFor, route, agent: new TunnelAgent(route), result: { errors: [] }, failed: new Set(), pid };
}

/**
 * CPU time of every thread of a process (`mainOnly`: of its main thread), in ns, from
 * /proc/<pid>/task/<tid>/schedstat (Linux; nanosecond precision, unlike the 10 ms ticks of
 * /proc/<pid>/stat). undefined elsewhere.
 */
export function cpuNs(pid: number | undefined, mainOnly = false): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let total = 0;
    for (const tid of mainOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

export async function measureAll(lanes: Lane[], s: Settings, deadline: number, log: (m: string) => void): Promise<void> {
  const samples = new Map<string, number[]>();
  const add = (l: Lane, key: string, values: number[]): void => {
    const k = `${l.name}/${key}`;
    samples.set(k, [...(samples.get(k) ?? []), ...values]);
  };
  const got = (l: Lane, key: string): Summary | undefined => {
    const v = samples.get(`${l.name}/${key}`);
    return v && v.length > 0 && !l.failed.has(key) ? summarize(v) : undefined;
  };
  /** Runs fn for every lane still good at `key`, `rounds` times, round-robin, until the deadline. */
  const rounds = async (key: string, count: number, fn: (l: Lane, i: number) => Promise<void>): Promise<void> => {
    log(`  ${key}…`);
    for (let i = 0; i < count; i++) {
      if (Date.now() > deadline) {
        for (const l of lanes) l.result.errors.push(`${key}: stopped after ${i} of ${count} rounds, out of time`);
        return;
      }
      for (const l of lanes) {
        if (l.failed.has(key)) continue;
        try {
          await fn(l, i);
        } catch (e) {
          l.failed.add(key);
          const message = `${key}: ${e instanceof Error ? e.message : String(e)}`;
          l.result.errors.push(message);
          log(`  ${l.name} failed ${message}`);
        }
      }
    }
  };

  // Warm-up: JIT, connection pools, and one certificate minted for a throwaway host, so the
  // measured "new host" figures show minting, not first-use costs.
  await rounds('warm-up', 1, async (l) => {
    for (let i = 0; i < 30; i++) await expectOk(get(l.agent, l.route, '/small'));
    await expectOk(get(l.agent, l.route, '/sse?n=200&gap=0'));
    await expectOk(get(l.agent, l.route, `/bulk?bytes=${Math.min(s.bulkBytes, 20_000_000)}`));
    await connectOnce(l.routeFor('warmup.bench.test'));
  });
  // A lane that cannot even warm up is not measured at all.
  for (const l of lanes) if (l.failed.has('warm-up')) for (const k of ['ttfb', 'sse', 'cached', 'new', 'throughput']) l.failed.add(k);

  await rounds('ttfb', s.ttfbRuns, async (l) => {
    const ex = await expectOk(get(l.agent, l.route, '/sse?n=1'));
    add(l, 'ttfb', [ms(ex.firstByte - ex.sent)]);
  });
  /** Runs fn and adds the proxy's CPU time over it (ns) under `key`. */
  const withCpu = async (l: Lane, key: string, fn: () => Promise<void>): Promise<void> => {
    const before = cpuNs(l.pid);
    await fn();
    const after = cpuNs(l.pid);
    if (before !== undefined && after !== undefined) add(l, key, [after - before]);
  };
  const perEvent = Math.ceil(s.sseEvents / s.sseRounds);
  await rounds('sse', s.sseRounds, (l) => withCpu(l, 'sse-cpu', async () => add(l, 'sse', await sseLatencies(l, perEvent, s))));
  await rounds('cached', s.cachedHandshakes, async (l) => add(l, 'cached', [(await connectOnce(l.route)).handshake]));
  await rounds('new', s.newHosts, async (l, i) => {
    const r = await connectOnce(l.routeFor(`h${i + 1}.bench.test`));
    add(l, 'new', [r.handshake]);
    add(l, 'first', [r.firstRequest]);
  });
  await rounds('throughput', s.bulkRuns, (l) => withCpu(l, 'bulk-cpu', async () => {
    const ex = await expectOk(get(l.agent, l.route, `/bulk?bytes=${s.bulkBytes}`, undefined, 120_000));
    if (ex.bytes !== s.bulkBytes) throw new Error(`received ${ex.bytes} of ${s.bulkBytes} bytes`);
    add(l, 'throughput', [ex.bytes / 1e6 / (ms(ex.end - ex.sent) / 1000)]);
  }));

  for (const l of lanes) {
    l.agent.destroy();
    const runs = samples.get(`${l.name}/throughput`) ?? [];
    const sum = (key: string): number | undefined => samples.get(`${l.name}/${key}`)?.reduce((a, b) => a + b, 0);
    const sseCpu = sum('sse-cpu');
    const bulkCpu = sum('bulk-cpu');
    Object.assign(l.result, {
      ttfb: got(l, 'ttfb'), sseEvent: got(l, 'sse'), handshakeCached: got(l, 'cached'), handshakeNew: got(l, 'new'),
      firstRequestNew: l.failed.has('new') ? undefined : got(l, 'first'),
      throughput: runs.length > 0 && !l.failed.has('throughput') ? { runsMBps: runs, bestMBps: Math.max(...runs), medianMBps: summarize(runs).median } : undefined,
      proxyCpuPerEventUs: sseCpu === undefined || l.failed.has('sse') ? undefined : sseCpu / 1000 / (perEvent * s.sseRounds),
      proxyCpuPerMBms: bulkCpu === undefined || l.failed.has('throughput') ? undefined : bulkCpu / 1e6 / ((runs.length * s.bulkBytes) / 1e6),
    });
  }
}

async function expectOk<T extends { status: number }>(p: Promise<T>): Promise<T> {
  const r = await p;
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  return r;
}

/** A fresh connection (no TLS session reuse) and one small request on it. */
async function connectOnce(route: Route): Promise<{ handshake: number; firstRequest: number }> {
  const agent = new TunnelAgent(route);
  try {
    const ex = await expectOk(get(agent, route, '/small', undefined, 15_000));
    const t = agent.lastOpen;
    if (!t) throw new Error('no connection was opened');
    return { handshake: ms(t.secure - t.connectSent), firstRequest: ms(ex.end - t.start) };
  } finally {
    agent.destroy();
    // Let the proxy tear the connection (and its upstream side) down before the next one.
    await sleep(20);
  }
}

/** One SSE response of n events; each complete event's latency is its receipt time minus its "t". */
async function sseLatencies(l: Lane, n: number, s: Settings): Promise<number[]> {
  const latencies: number[] = [];
  let pending = '';
  let seen = 0;
  const pattern = /"i":(\d+),"t":"(\d+)"/;
  const ex = await expectOk(get(l.agent, l.route, `/sse?n=${n}&gap=${s.sseGapMs}`, (chunk, at) => {
    pending += chunk.toString('utf8');
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const m = pattern.exec(pending.slice(0, end));
      pending = pending.slice(end + 2);
      if (!m) continue;
      seen++;
      if (Number(m[1]) >= s.sseSkip) latencies.push(ms(at - BigInt(m[2])));
    }
  }, 60_000 + n * s.sseGapMs * 2));
  if (seen < n) throw new Error(`saw ${seen} of ${n} events (${ex.bytes} bytes)`);
  return latencies;
}
