// One proxy under test, in a process of its own (mitmproxy is one by nature; ours and mockttp
// get the same treatment so no column shares an event loop with the client or the fake).
//
// Usage: node --import tsx bench/proxy-child.ts   with BENCH_PROXY = JSON of ChildConfig.
// Prints one JSON line {"port":N,"caCertPath":"…"} on stdout once it accepts connections.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChildConfig {
  kind: 'ours' | 'ours-tap' | 'ours-capture' | 'ours-capture-1thread' | 'mockttp';
  /** The fake upstream's CA, which every proxy must trust for its upstream connections. */
  upstreamCa: string;
  intercept: string[];
  map: { from: { host: string; port: number }; to: { host: string; port: number } }[];
  /** Import this instead of ../src/proxy (see BENCH_OURS_VARIANTS in bench/README.md). */
  module?: string;
}

// mockttp lives in bench/node_modules (see bench/package.json) and may be absent, so it is
// loaded by a name the type checker does not follow, and typed here by the little we use.
interface MockttpServer {
  port: number;
  start(port?: number): Promise<void>;
  stop(): Promise<void>;
  forAnyRequest(): { thenPassThrough(options: object): Promise<unknown> };
}
interface MockttpModule {
  getLocal(options: object): MockttpServer;
  generateCACertificate(options?: object): Promise<{ key: string; cert: string }>;
}

const config = JSON.parse(process.env.BENCH_PROXY ?? '{}') as ChildConfig;
const work = mkdtempSync(join(tmpdir(), `llmc-bench-${config.kind}-`));
let stop: () => Promise<void> = async () => {};

async function startOurs(withTap: boolean): Promise<{ port: number; caCertPath: string }> {
  // A variant is another copy of src/proxy (a patched one in a scratch directory, say), so that
  // a proposed change is measured against the current code and the same competitors.
  const { startProxy, Tap } = (config.module ? await import(config.module) : await import('../src/proxy')) as typeof import('../src/proxy');
  const tap = new Tap();
  if (withTap) {
    // A stand-in for capture: it reads every event and every body byte's length, so the
    // column shows what having a consumer costs (queueing, the deferred drain, retained chunks).
    let events = 0;
    let bytes = 0;
    tap.subscribe((event) => {
      events++;
      if (event.type === 'request-body' || event.type === 'response-body') bytes += event.chunk.length;
      else if (event.type === 'request-head') bytes += event.url.length;
    });
    process.on('SIGTERM', () => console.error(`tap saw ${events} events, ${bytes} bytes`));
  }
  const proxy = await startProxy({
    dataDir: join(work, 'data'),
    port: 0,
    intercept: config.intercept,
    upstreamCaFiles: [config.upstreamCa],
    map: config.map,
    tap,
  });
  stop = () => proxy.close();
  return { port: proxy.port, caCertPath: proxy.ca.certPath };
}

/**
 * The whole product path: proxy → recorder (decode, redact) → sql.js store on disk; the proxy on a
 * thread of its own, or (`ours-capture-1thread`, the design before decision 38) on the capturing thread.
 */
async function startCapture(oneThread: boolean): Promise<{ port: number; caCertPath: string }> {
  const { CaptureService } = await import('../src/app/capture-service');
  const service = await CaptureService.start({
    dataDir: join(work, 'data'),
    port: 0,
    intercept: config.intercept,
    upstreamCaFiles: [config.upstreamCa],
    map: config.map,
    proxyOnThisThread: oneThread,
    // The 100 MB bodies are cut at the default 64 MiB cap while the bytes still flow in full.
  });
  stop = () => service.stop();
  return { port: service.proxy.port, caCertPath: service.proxy.ca.certPath };
}

async function startMockttp(): Promise<{ port: number; caCertPath: string }> {
  const name = 'mockttp';
  const loaded = (await import(name)) as MockttpModule & { default?: MockttpModule };
  const mockttp = typeof loaded.getLocal === 'function' ? loaded : loaded.default;
  if (!mockttp) throw new Error('mockttp did not load');
  // mockttp's own CA, the way HTTP Toolkit sets it up: one RSA CA, leaf certificates minted per host.
  const ca = await mockttp.generateCACertificate({ commonName: 'mockttp bench CA' });
  const keyPath = join(work, 'ca.key');
  const certPath = join(work, 'ca.pem');
  writeFileSync(keyPath, ca.key, { mode: 0o600 });
  writeFileSync(certPath, ca.cert);
  // recordTraffic off: we only proxy, as HTTP Toolkit's interceptors do, and keeping every
  // request for getSeenRequests() would grow without bound during a 100 MB transfer.
  const server = mockttp.getLocal({ https: { keyPath, certPath }, recordTraffic: false });
  await server.start();
  // Upstream certificates are verified against the fake's CA, as the other proxies do.
  await server.forAnyRequest().thenPassThrough({ additionalTrustedCAs: [{ certPath: config.upstreamCa }] });
  stop = () => server.stop();
  return { port: server.port, caCertPath: certPath };
}

async function main(): Promise<void> {
  const started = config.kind === 'mockttp' ? await startMockttp() : config.kind.startsWith('ours-capture') ? await startCapture(config.kind === 'ours-capture-1thread') : await startOurs(config.kind === 'ours-tap');
  process.stdout.write(`${JSON.stringify(started)}\n`);
}

function shutdown(): void {
  // A proxy whose close() hangs must not keep the bench waiting.
  const exit = (): never => {
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  };
  setTimeout(exit, 2000).unref();
  stop().then(exit, exit);
}

process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
