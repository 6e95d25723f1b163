// The proxy on its own thread never waits for the thread that captures. While that thread is
// blocked (here: a listener that holds it for 1.5 s, as a slow snapshot would), a client in
// another process keeps sending requests to an upstream on a thread of its own, and gets every
// answer. Capture then catches up: every
// exchange is still reported, and those begun while capture was too far behind come without their
// bodies and with an error that says so, never with a body that has holes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startProxyThread, Tap, type ProxyThread, type TapEvent } from '../../src/proxy';
import { Worker } from 'node:worker_threads';
import { createTestPki, type TestPki } from '../support/test-pki';

const HOST = 'api.anthropic.com';
const REQUESTS = 2500;
const run = promisify(execFile);

describe('the proxy thread when capture is behind', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let fake: Worker;
  let fakePort: number;
  let dataDir: string;
  let proxy: ProxyThread;
  const events: TapEvent[] = [];

  before(async () => {
    pki = createTestPki();
    // The upstream must not share the blocked thread: it runs on a worker of its own.
    const tsx = require.resolve('tsx/cjs');
    const upstream = join(__dirname, '..', 'support', 'fake-upstream.ts');
    fake = new Worker(`require(${JSON.stringify(tsx)});
      const { parentPort, workerData } = require('node:worker_threads');
      require(${JSON.stringify(upstream)}).startFakeUpstream(workerData).then((f) => parentPort.postMessage(f.port));`,
    { eval: true, workerData: pki.serverCert([HOST]) });
    fakePort = await new Promise<number>((resolve, reject) => { fake.once('message', resolve); fake.once('error', reject); });
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-backlog-'));
    const tap = new Tap();
    let blocked = false;
    tap.subscribe((event) => {
      events.push(event);
      if (blocked || event.type !== 'request-head') return;
      blocked = true;
      // The capturing thread is busy for 1.5 s, as it is while it snapshots a large store.
      const until = Date.now() + 1500;
      while (Date.now() < until) { /* busy */ }
    });
    proxy = await startProxyThread({
      dataDir, intercept: [HOST], upstreamCaFiles: [pki.caCertPath], onlyMapped: true, tap,
      map: [{ from: { host: HOST, port: 443 }, to: { host: '127.0.0.1', port: fakePort } }],
    });
  });

  after(async () => {
    await proxy?.close();
    await fake?.terminate();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('forwards every request, then reports every exchange, bodies whole or marked missing', async () => {
    const client = join(__dirname, '..', 'support', 'flood-client.mjs');
    const { stdout } = await run(process.execPath, [client, String(proxy.port), join(dataDir, 'ca.pem'), HOST, String(REQUESTS)], { timeout: 100_000 });
    assert.deepEqual(JSON.parse(stdout), { ok: REQUESTS, failed: 0 }, 'every request was answered');
    await proxy.tap.drained();

    const ended = new Set(events.filter((e) => e.type === 'exchange-end').map((e) => e.exchangeId));
    assert.equal(ended.size, REQUESTS, 'every exchange was reported');
    const behind = new Set(events.flatMap((e) => (e.type === 'error' && e.exchangeId !== undefined && /capture fell behind forwarding/.test(e.message) ? [e.exchangeId] : [])));
    assert.ok(behind.size > 0, 'capture fell behind while its thread was blocked, and said so');
    assert.ok(behind.size < REQUESTS, 'and caught up');
    const bodyBytes = new Map<number, number>();
    for (const e of events) if (e.type === 'request-body') bodyBytes.set(e.exchangeId, (bodyBytes.get(e.exchangeId) ?? 0) + e.chunk.length);
    for (const id of ended) {
      if (behind.has(id)) assert.equal(bodyBytes.get(id), undefined, `exchange ${id} is marked, and has no body`);
      else assert.equal(bodyBytes.get(id), 2010, `exchange ${id} has its whole body`);
    }
  });
});
