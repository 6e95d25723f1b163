// Ingest while forwarding: exchanges with 100 KB request bodies through the real proxy,
// once with capture off (forwarding only) and once with the recorder and the store attached,
// in the same run. Prints exchanges per second for both; asserts nothing.
// Run: npx tsx bench/capture-ingest-bench.ts [--count=N]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureService } from '../src/app/capture-service';
import { parseMapping, startProxy } from '../src/proxy';
import { startFakeUpstream } from '../test/support/fake-upstream';
import { fetchVia, TunnelAgent } from '../test/support/proxied-request';
import { createTestPki } from '../test/support/test-pki';

const COUNT = Number(process.argv.find((a) => a.startsWith('--count='))?.slice(8) ?? 300);
const CONCURRENCY = 4;
const BODY_BYTES = 100 * 1024;

async function drive(proxyUrl: string, caPem: string): Promise<number> {
  const agent = new TunnelAgent({ proxyUrl, ca: caPem }, { keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < COUNT) {
      const n = next++;
      // Text that does not repeat between requests, so the store cannot deduplicate it away.
      const body = JSON.stringify({ n, messages: [{ role: 'user', content: randomBytes(BODY_BYTES * 0.75).toString('base64') }] });
      await fetchVia(agent, 'api.anthropic.com', 443, { method: 'POST', path: `/v1/messages?n=${n}`, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body: [body] });
    }
  }));
  agent.destroy();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const pki = createTestPki();
  const fake = await startFakeUpstream(pki.serverCert(['api.anthropic.com']));
  const common = { intercept: ['api.anthropic.com'], upstreamCaFiles: [pki.caCertPath], map: [parseMapping(`api.anthropic.com:443=127.0.0.1:${fake.port}`)], onlyMapped: true };
  const dirs = [mkdtempSync(join(tmpdir(), 'llmc-ingest-a-')), mkdtempSync(join(tmpdir(), 'llmc-ingest-b-'))];
  try {
    const plain = await startProxy({ ...common, dataDir: dirs[0] });
    const forwardMs = await drive(plain.url, plain.ca.certPem);
    await plain.close();

    const service = await CaptureService.start({ ...common, dataDir: dirs[1] });
    const captureMs = await drive(service.proxy.url, readFileSync(service.proxy.ca.certPath, 'utf8'));
    const stopStarted = performance.now();
    await service.stop(); // recorder flushed, store snapshotted and closed
    const drainMs = performance.now() - stopStarted;
    const { CaptureStore } = await import('../src/store');
    const reader = await CaptureStore.open({ dataDir: dirs[1], mode: 'reader' });
    const stats = reader.stats();
    await reader.close();

    const row = (label: string, value: string) => console.log(`  ${label.padEnd(44)} ${value}`);
    console.log(`ingest while forwarding: ${COUNT} POSTs of ~${BODY_BYTES / 1024} KB (response ~${Math.round(BODY_BYTES * 1.4 / 1024)} KB), ${CONCURRENCY} at a time, client, fake and proxy in one process`);
    row('forwarding only (no capture)', `${(COUNT / (forwardMs / 1000)).toFixed(0)} exchanges/s`);
    row('forwarding + capture + store', `${(COUNT / (captureMs / 1000)).toFixed(0)} exchanges/s (${(100 * forwardMs / captureMs).toFixed(0)}% of forwarding only)`);
    row('stored exchanges', `${stats.exchanges} of ${COUNT}`);
    row('stop (drain recorder, final snapshot)', `${drainMs.toFixed(0)} ms`);
    row('raw body bytes / stored body bytes', `${(stats.bodyBytes / 1e6).toFixed(1)} MB / ${(stats.storedBodyBytes / 1e6).toFixed(1)} MB`);
  } finally {
    await fake.close();
    for (const d of [...dirs, pki.dir]) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
