// Statistics, the printed table and the target check. Pure functions: run.ts feeds them.
import type { ColumnResult } from './measure';

export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles: with 1000+ samples p99 is a real observed value, not an interpolation. */
export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, median: at(50), p90: at(90), p99: at(99), min: s[0], max: s[s.length - 1] };
}

export interface Column {
  name: string;
  skipped?: string;
  result?: ColumnResult;
}

type Cell = (c: ColumnResult, direct: ColumnResult | undefined) => number | undefined;

const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);

// "Added" figures subtract direct's percentile from the proxy's: the events of two runs cannot be
// paired, so this is the shift of the distribution, which is what a user of the stream feels.
const ROWS: [string, Cell, number][] = [
  ['SSE TTFB, median (ms)', (c) => c.ttfb?.median, 3],
  ['SSE TTFB added, median (ms)', (c, d) => diff(c.ttfb?.median, d?.ttfb?.median), 3],
  ['SSE event one-way, median (ms)', (c) => c.sseEvent?.median, 3],
  ['SSE event one-way, p99 (ms)', (c) => c.sseEvent?.p99, 3],
  ['SSE added per event, median (ms)', (c, d) => diff(c.sseEvent?.median, d?.sseEvent?.median), 3],
  ['SSE added per event, p99 (ms)', (c, d) => diff(c.sseEvent?.p99, d?.sseEvent?.p99), 3],
  ['100 MB body, best of runs (MB/s)', (c) => c.throughput?.bestMBps, 0],
  ['100 MB body, median of runs (MB/s)', (c) => c.throughput?.medianMBps, 0],
  ['100 MB body, % of direct (paired)', (c, d) => pairedPct(c, d), 0],
  ['TLS handshake, new host, median (ms)', (c) => c.handshakeNew?.median, 2],
  ['TLS handshake, new host, p90 (ms)', (c) => c.handshakeNew?.p90, 2],
  ['TLS handshake, cached host, median (ms)', (c) => c.handshakeCached?.median, 2],
  ['First GET on a new host, median (ms)', (c) => c.firstRequestNew?.median, 2],
  ['Proxy CPU per SSE event (µs)', (c) => c.proxyCpuPerEventUs, 0],
  ['Proxy CPU per MB of body (ms)', (c) => c.proxyCpuPerMBms, 2],
];

/**
 * Throughput as % of direct: the median over rounds of (this column's run ÷ direct's run in the
 * same round). The two runs of a round are seconds apart, so a slow spell of the machine mostly
 * hits both and cancels out, which neither best-of nor median-of-runs ratios achieve.
 */
export function pairedPct(c: ColumnResult, direct: ColumnResult | undefined): number | undefined {
  const a = c.throughput?.runsMBps;
  const b = direct?.throughput?.runsMBps;
  if (!a || !b) return undefined;
  const n = Math.min(a.length, b.length);
  if (n === 0) return undefined;
  return summarize(Array.from({ length: n }, (_, i) => (100 * a[i]) / b[i])).median;
}

export function table(columns: Column[]): string {
  const direct = columns.find((c) => c.name === 'direct')?.result;
  const header = ['', ...columns.map((c) => c.name)];
  const lines: string[][] = [header];
  for (const [label, cell, digits] of ROWS) {
    lines.push([label, ...columns.map((c) => {
      if (!c.result) return '—';
      const v = cell(c.result, direct);
      return v === undefined ? '—' : v.toFixed(digits);
    })]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l: string[]): string => l.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  const out = [fmt(lines[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(fmt)];
  for (const c of columns) {
    if (c.skipped) out.push(`${c.name}: skipped (${c.skipped})`);
    for (const e of c.result?.errors ?? []) out.push(`${c.name}: ${e}`);
  }
  return out.join('\n');
}

export interface Verdict {
  column: string;
  target: string;
  value: number | undefined;
  met: boolean | undefined;
}

/** Our proxy's targets, checked for each of our columns (reported, never asserted). */
export function verdicts(columns: Column[]): Verdict[] {
  const direct = columns.find((c) => c.name === 'direct')?.result;
  const out: Verdict[] = [];
  // The tunnel column is a reference (no interception), not a configuration the targets apply to.
  for (const c of columns.filter((x) => x.name.startsWith('ours') && !x.name.includes('tunnel') && x.result)) {
    const r = c.result as ColumnResult;
    const check = (target: string, value: number | undefined, ok: (v: number) => boolean): void => {
      out.push({ column: c.name, target, value, met: value === undefined ? undefined : ok(value) });
    };
    check('SSE added per event, median < 0.15 ms', diff(r.sseEvent?.median, direct?.sseEvent?.median), (v) => v < 0.15);
    check('SSE added per event, p99 < 1 ms', diff(r.sseEvent?.p99, direct?.sseEvent?.p99), (v) => v < 1);
    check('100 MB throughput >= 50% of direct', pairedPct(r, direct), (v) => v >= 50);
    check('TLS handshake, new host < 20 ms', r.handshakeNew?.median, (v) => v < 20);
    check('TLS handshake, cached host < 4 ms', r.handshakeCached?.median, (v) => v < 4);
  }
  return out;
}

export function verdictText(list: Verdict[]): string {
  return list.map((v) => {
    const mark = v.met === undefined ? 'n/a ' : v.met ? 'met ' : 'MISS';
    return `${mark}  ${v.column.padEnd(9)} ${v.target.padEnd(38)} ${v.value === undefined ? '—' : v.value.toFixed(3)}`;
  }).join('\n');
}
