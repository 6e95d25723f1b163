// The proxy forwards on a worker thread of its own. When that thread dies of an uncaught error,
// the agent's connection fails at once (an error, never a stall), the exchange it had open is
// stored with the reason, the proxy listens again on the same port and says so in one line, and
// the next request through the same variables is captured.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaptureService } from '../../src/app/capture-service';
import type { ProxyThread } from '../../src/proxy';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';

const HOST = 'api.anthropic.com';

describe('the proxy thread restarts itself', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let fake: Server;
  let fakePort: number;
  let dataDir: string;
  let service: CaptureService;
  const logs: string[] = [];

  before(async () => {
    pki = createTestPki();
    // /hang answers its head and one event, then nothing: a stream the crash must cut, not freeze.
    fake = createServer(pki.serverCert([HOST]), (req, res) => {
      if (req.url === '/hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.write('data: {"first":true}\n\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakePort = (fake.address() as { port: number }).port;
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-restart-'));
    service = await CaptureService.start({
      dataDir, intercept: [HOST], upstreamCaFiles: [pki.caCertPath], onlyMapped: true,
      map: [{ from: { host: HOST, port: 443 }, to: { host: '127.0.0.1', port: fakePort } }],
      log: (level, message) => logs.push(`[${level}] ${message}`),
    });
  });

  after(async () => {
    await service?.stop();
    fake?.closeAllConnections();
    fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('an open stream fails at once, the port serves again, and the next request is captured', async () => {
    const proxy = service.proxy as ProxyThread;
    const ca = proxy.ca.certPem;
    const port = proxy.port;

    const streamed = new Promise<string>((resolve) => {
      void import('node:https').then(({ request }) => {
        const req = request({ host: HOST, port: 443, path: '/hang', agent: new TunnelAgent({ proxyUrl: proxy.url, ca }, { keepAlive: false }) });
        req.on('response', (res) => {
          res.once('data', () => proxy.crashForTest());
          res.on('error', (e) => resolve(`response error: ${e.message}`));
          res.on('aborted', () => resolve('response aborted'));
          res.on('end', () => resolve('ended cleanly'));
        });
        req.on('error', (e) => resolve(`request error: ${e.message}`));
        req.end();
      });
    });
    // The stream would hang forever if the crash left it open: only an error resolves this.
    assert.match(await streamed, /error|aborted/);

    let restarted: string | undefined;
    for (let i = 0; i < 200 && !restarted; i++) {
      restarted = logs.find((l) => l.includes('restarted on'));
      if (!restarted) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(restarted, `[error] the proxy thread stopped: the proxy thread was asked to crash; restarted on 127.0.0.1:${port}`);
    assert.equal(logs.filter((l) => l.includes('proxy thread stopped')).length, 1, 'one line says so');
    assert.equal(service.proxy.port, port);

    const after = await fetchVia(new TunnelAgent({ proxyUrl: `http://127.0.0.1:${port}`, ca }, { keepAlive: false }), HOST, 443, { path: '/after' });
    assert.equal(after.statusCode, 200);
    await service.store.flush();
    for (let i = 0; i < 100; i++) {
      const urls = service.store.listExchanges({ limit: 10 }).items;
      if (urls.some((x) => x.url.endsWith('/after') && x.endedAt !== undefined)) break;
      await new Promise((r) => setTimeout(r, 25));
      await service.store.flush();
    }
    const stored = service.store.listExchanges({ limit: 10 }).items;
    const hung = stored.find((x) => x.url.endsWith('/hang'));
    assert.ok(hung?.endedAt, 'the cut exchange was ended');
    assert.match(hung?.errors.join('; ') ?? '', /the proxy thread stopped/);
    assert.ok(stored.some((x) => x.url.endsWith('/after') && x.statusCode === 200), 'the request after the restart was captured');
  });
});
