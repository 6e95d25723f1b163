// Forwarding never waits for capture. The real CLI proxy captures three 50 MB incompressible
// bodies (decoded, chunked, compressed and stored on the capture side) while an SSE stream with an
// event every 10 ms passes through the same proxy; the stream keeps its pace: its largest gap
// between events stays close to what the same load gives over a direct connection. With the proxy
// on the capturing thread, the gap grew by as long as the compression of a body took.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpsRequest, type Agent, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaptureStore } from '../../src/store';
import { DirectAgent, fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { startCliProxy, type RunningCliProxy } from './cli-process';

const HOST = 'api.anthropic.com';
const BLOB_BYTES = 50 * 1024 * 1024;
const BLOBS = 3;
const EVENTS = 400;
const EVENT_EVERY_MS = 10;

interface StreamTiming {
  events: number;
  maxGapMs: number;
}

/** The fake: GET /blob/N answers 50 MB of random bytes, GET /sse an event every 10 ms. */
function startFake(tls: { key: string; cert: string }, blob: Buffer): Promise<Server & { port: number }> {
  const server = createServer(tls, (req, res) => {
    if (req.url?.startsWith('/blob/')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
      return void res.end(blob);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`event: tick\ndata: {"n":${sent}}\n\n`);
      if (++sent === EVENTS) {
        clearInterval(timer);
        res.end();
      }
    }, EVENT_EVERY_MS);
    res.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(Object.assign(server, { port: (server.address() as { port: number }).port }))));
}

/** Reads the SSE stream, noting when each whole event arrived. */
function timeStream(agent: Agent): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: HOST, port: 443, path: '/sse', agent, headers: { accept: 'text/event-stream' } });
    req.on('response', (res) => {
      let pending = '';
      let last = 0;
      let maxGapMs = 0;
      let events = 0;
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        pending += text;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          pending = pending.slice(end + 2);
          const t = performance.now();
          if (events > 0) maxGapMs = Math.max(maxGapMs, t - last);
          last = t;
          events++;
        }
      });
      res.on('end', () => resolve({ events, maxGapMs }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The stream, with three large downloads over other connections of the same agent kind at the same time. */
async function streamUnderLoad(agentFor: () => Agent): Promise<StreamTiming> {
  const stream = timeStream(agentFor());
  const blobs = Array.from({ length: BLOBS }, (_, i) => fetchVia(agentFor(), HOST, 443, { path: `/blob/${i}` }));
  const [timing, ...downloads] = await Promise.all([stream, ...blobs]);
  for (const d of downloads) assert.equal(d.body.length, BLOB_BYTES, 'every download arrived whole');
  return timing;
}

describe('forwarding does not wait for capture', { timeout: 180_000 }, () => {
  let pki: TestPki;
  let fake: Server & { port: number };
  let dataDir: string;
  let proxy: RunningCliProxy | undefined;

  before(async () => {
    pki = createTestPki();
    fake = await startFake(pki.serverCert([HOST]), randomBytes(BLOB_BYTES));
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-isolation-'));
  });

  after(async () => {
    await proxy?.stop();
    fake?.closeAllConnections();
    fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('an SSE stream keeps its pace while large bodies are captured, and the bodies are stored whole', async (t) => {
    const direct = await streamUnderLoad(() => new DirectAgent(fake.port, pki.caCert));

    proxy = await startCliProxy(['--data-dir', dataDir, '--quiet', '--intercept', HOST, '--upstream-ca', pki.caCertPath,
      '--map', `${HOST}:443=127.0.0.1:${fake.port}`, '--only-mapped']);
    const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
    const proxied = await streamUnderLoad(() => new TunnelAgent({ proxyUrl: proxy!.url, ca }, { keepAlive: false }));
    assert.equal(await proxy.stop(), 0, proxy.stderr());

    t.diagnostic(`largest gap between events: direct ${direct.maxGapMs.toFixed(1)} ms, through the capturing proxy ${proxied.maxGapMs.toFixed(1)} ms`);
    assert.equal(direct.events, EVENTS);
    assert.equal(proxied.events, EVENTS);
    // Measured: within about 20 ms of direct on a quiet machine, and up to 200 ms more when this
    // process, the proxy's two threads and the compression share two cores; a forwarding thread that
    // waits for the compression of 50 MB bodies stalls for 1.1 to 1.8 s. The bound sits between.
    assert.ok(proxied.maxGapMs <= direct.maxGapMs + 400, `the stream stalled for ${proxied.maxGapMs.toFixed(0)} ms (direct: ${direct.maxGapMs.toFixed(0)} ms)`);

    const store = await CaptureStore.open({ dataDir, mode: 'reader' });
    try {
      const blobs = store.listExchanges({ limit: 100 }).items.filter((x) => x.url.includes('/blob/'));
      assert.equal(blobs.length, BLOBS);
      for (const x of blobs) {
        const body = store.getExchange(x.id)?.responseBody;
        assert.equal(body?.data.length, BLOB_BYTES, 'captured whole');
        assert.equal(body?.truncated, false);
      }
    } finally {
      await store.close();
    }
  });
});
