// The columns of bench/load-bench.ts: how each proxy is started, how a client reaches the fake
// through it, how its memory is watched, and what its recorder wrote, read back after it stopped.
// Ours runs in bench/capture-ingest/ours-child.ts (forwarding only, or CaptureService writing a
// store: the product path); mitmdump as bench/capture-ingest-bench.ts starts it, but streaming.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Route } from '../client';
import type { OursChildConfig } from '../capture-ingest/ours-child';
import { countFlows } from '../mitm-flows';
import { launchMitmdump } from '../mitmdump';
import { launchOursChild, type Fake } from '../capture-ingest/launch';
import { stopProcess } from '../processes';
import { sha256 } from '../../test/support/sse-load-client';
import { LOAD_STREAM_HEADER } from '../../test/support/sse-load-upstream';

export const COLUMNS = ['direct', 'ours', 'ours+capture', 'mitmdump-w'] as const;
export type ColumnName = (typeof COLUMNS)[number];
export const HOST = 'api.anthropic.com';

export type { Fake };

export interface Started {
  route: Route;
  /** The proxy's process; none for direct. */
  proc?: ChildProcess;
  /** Stops the proxy; resolves once its process has exited (a recorder has then written everything). */
  stop(): Promise<void>;
  /** After the stop: what the proxy wrote, checked against what each client received (stream id → sha256). */
  written?(received: Map<string, string>): Promise<string>;
  cleanup(): void;
}

export async function startColumn(name: ColumnName, fake: Fake): Promise<Started> {
  switch (name) {
    case 'direct':
      return { route: { connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: fake.ca }, stop: async () => {}, cleanup: () => {} };
    case 'ours': return startOurs(fake, 'forward');
    case 'ours+capture': return startOurs(fake, 'capture');
    case 'mitmdump-w': return startMitmdump(fake);
  }
}

async function startOurs(fake: Fake, mode: OursChildConfig['mode']): Promise<Started> {
  const { child, route, dataDir } = await launchOursChild(fake, mode, HOST, 'llmc-load-');
  return {
    route,
    proc: child.proc,
    stop: () => stopExited(child.proc, child.stderrTail),
    written: mode === 'capture' ? (received) => readStore(dataDir, received) : undefined,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * mitmdump writing every flow (-w), with stream_large_bodies=1 as bench/candidates.ts runs it:
 * mitmproxy 8 holds a buffered SSE answer until it ends (its own warning, issue 4469), which would
 * turn every event's delay into the stream's length. Streamed bodies are not kept in the flow, so
 * its file holds each exchange's heads only, where our store holds both bodies: a cheaper recorder.
 */
async function startMitmdump(fake: Fake): Promise<Started> {
  let flowFile = '';
  const m = await launchMitmdump(fake.caPath, 'llmc-load-mitm-', (confdir) => {
    flowFile = join(confdir, 'flows.mitm');
    return ['--set', 'stream_large_bodies=1', '-w', flowFile];
  });
  return {
    // CONNECT 127.0.0.1:<fake port> with SNI and Host api.anthropic.com: no DNS (bench/README.md).
    route: { proxyPort: m.port, connectHost: '127.0.0.1', connectPort: fake.port, servername: HOST, ca: m.ca },
    proc: m.child.proc,
    // mitmdump may exit non-zero on a signal; what matters is the file it closed.
    stop: () => stopExited(m.child.proc, m.child.stderrTail).catch((e: Error) => console.error(`  note: mitmdump: ${e.message}`)),
    written: async (received) => {
      const bytes = existsSync(flowFile) ? statSync(flowFile).size : 0;
      const flows = bytes > 0 ? countFlows(flowFile) : 0;
      return `${flows} of ${received.size} flows in its file (${(bytes / 1e6).toFixed(1)} MB: heads, no streamed bodies)`;
    },
    cleanup: m.cleanup,
  };
}

/** SIGTERM, then wait for the exit (SIGKILL after 120 s); rejects on a non-zero status, with the child's last stderr. */
async function stopExited(proc: ChildProcess, stderrTail: () => string): Promise<void> {
  await stopProcess(proc, { killAfterMs: 120_000, mustSucceed: true }).catch((e: Error) => {
    throw new Error(`${e.message}: ${stderrTail()}`);
  });
}

/** Every stored exchange's response body against what its client received; reads as any reader would. */
async function readStore(dataDir: string, received: Map<string, string>): Promise<string> {
  const { CaptureStore } = await import('../../src/store');
  const reader = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    let stored = 0;
    let whole = 0;
    const errors = new Map<string, number>();
    for (let before: number | undefined; ;) {
      const page = reader.listExchanges({ limit: 1000, before });
      for (const summary of page.items) {
        stored++;
        const x = reader.getExchange(summary.id);
        const id = x?.requestHeaders.find(([n]) => n.toLowerCase() === LOAD_STREAM_HEADER)?.[1] ?? '';
        const body = x?.responseBody;
        if (x?.requestBody && body && !body.truncated && sha256(body.data) === received.get(id)) whole++;
        for (const e of x?.errors ?? []) errors.set(e.replace(/\d+/g, 'N'), (errors.get(e.replace(/\d+/g, 'N')) ?? 0) + 1);
      }
      if (page.next === undefined) break;
      before = page.next;
    }
    const noted = [...errors].map(([e, n]) => `; ${n} noted "${e}"`).join('');
    return `${stored} of ${received.size} exchanges stored, ${whole} with the response body byte for byte as received${noted}`;
  } finally {
    await reader.close();
  }
}

/** The peak resident set of a process (VmHWM, kB → MB), polled until it exits: the last value read is its peak. */
export function watchPeakRss(pid: number | undefined): { peakMb(): number | undefined; stop(): void } {
  let peak: number | undefined;
  const read = (): void => {
    if (pid === undefined) return;
    try {
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (Number.isFinite(kb)) peak = Math.max(peak ?? 0, kb / 1024);
    } catch {
      // The process has exited: the last reading stands.
    }
  };
  read();
  const timer = setInterval(read, 100);
  return { peakMb: () => (read(), peak), stop: () => clearInterval(timer) };
}

/** CPU time of a whole process (all threads) from /proc/<pid>/stat, in ms; undefined once it has gone. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
