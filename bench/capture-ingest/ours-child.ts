// Our proxy for bench/capture-ingest-bench.ts, in a process of its own so that neither forwarding
// nor capture shares a thread with the bench's client and fake upstream (mitmdump is a process of
// its own by nature). `forward`: startProxy and nothing else. `capture`: CaptureService, i.e. the
// proxy on its thread, the recorder and the store writing to `dataDir` (the parent reads it after).
//
// Usage: node --import tsx bench/capture-ingest/ours-child.ts   with BENCH_INGEST = JSON of OursChildConfig.
// Prints {"port":N,"caCertPath":"…"} on stdout once it accepts connections. On SIGTERM (or stdin
// closed) it stops as the product stops (capture: proxy closed, recorder drained, store closed with
// a final snapshot) and exits, with status 1 if stopping failed. The parent times the stop.

export interface OursChildConfig {
  mode: 'forward' | 'capture';
  dataDir: string;
  /** The fake upstream's CA (verified like any upstream) and its port on 127.0.0.1. */
  upstreamCa: string;
  fakePort: number;
  host: string;
}

const config = JSON.parse(process.env.BENCH_INGEST ?? '{}') as OursChildConfig;
let stop: () => Promise<void> = async () => {};

async function main(): Promise<void> {
  const options = {
    dataDir: config.dataDir,
    port: 0,
    intercept: [config.host],
    upstreamCaFiles: [config.upstreamCa],
    // An agent CONNECTs to api.anthropic.com:443; the map dials the fake instead (no DNS).
    map: [{ from: { host: config.host, port: 443 }, to: { host: '127.0.0.1', port: config.fakePort } }],
    onlyMapped: true,
  };
  if (config.mode === 'capture') {
    const { CaptureService } = await import('../../src/app/capture-service');
    const service = await CaptureService.start(options);
    stop = () => service.stop();
    process.stdout.write(`${JSON.stringify({ port: service.proxy.port, caCertPath: service.proxy.ca.certPath })}\n`);
  } else {
    const { startProxy } = await import('../../src/proxy');
    const proxy = await startProxy(options);
    stop = () => proxy.close();
    process.stdout.write(`${JSON.stringify({ port: proxy.port, caCertPath: proxy.ca.certPath })}\n`);
  }
}

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  stop().then(() => process.exit(0), (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  });
}

process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
