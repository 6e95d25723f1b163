// Upstream faults at each phase: what the client sees through the proxy is what it sees directly
// (or, where the upstream stays silent, a 504 that says which phase), and after every fault the
// upstream's side of the connection is closed: the proxy holds no socket for a client that left.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMapping, startProxy, Tap, type ProxyOptions, type RunningProxy, type TapEvent } from '../../src/proxy';
import { EARLY_413_BODY, FAULTS, FIRST_EVENT, startFaultUpstream, type FaultUpstream } from '../support/fault-upstream';
import { DEADLOCK_TIMEOUT } from '../support/proxy-harness';
import { curl, DirectAgent, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';

const FAULTY = 'faulty.example.test';
/** Accepts TCP, never answers the TLS handshake. */
const SILENT = 'silent.example.test';
/** Served by the fault server with a certificate that does not name it. */
const MISNAMED = 'misnamed.example.test';
const UPLOAD = 20 * 1024 * 1024;

/** What a client ended with: a status and body, or an error. */
type Outcome = { status: number; body: string } | { error: string };

interface RequestPlan {
  method?: string;
  /** Bytes uploaded in 64 KiB pieces (with a content-length). */
  upload?: number;
  /** Destroy the request once this many bytes are uploaded (before the upload ends). */
  abortAfterUpload?: number;
  /** Destroy the request once the first body bytes arrive. */
  abortOnFirstBytes?: boolean;
  /** Called once the request has been sent, with a function that destroys it. */
  onSent?: (abort: () => void) => void;
}

function send(agent: Agent, host: string, path: string, plan: RequestPlan = {}): Promise<Outcome & { partial?: string }> {
  return new Promise((resolve) => {
    const headers = plan.upload !== undefined ? { 'content-length': String(plan.upload) } : undefined;
    const req = request({ host, port: 443, path, method: plan.method ?? (plan.upload ? 'POST' : 'GET'), agent, headers });
    let partial = '';
    req.on('response', (res) => {
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        partial += c;
        if (plan.abortOnFirstBytes) req.destroy();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: partial }));
      res.on('error', (e) => resolve({ error: e.message, partial }));
      res.on('aborted', () => resolve({ error: 'aborted', partial }));
    });
    req.on('error', (e) => resolve({ error: e.message, partial }));
    req.on('close', () => resolve({ error: 'closed', partial }));
    const piece = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < (plan.upload ?? 0) && !req.destroyed) {
        if (plan.abortAfterUpload !== undefined && sent >= plan.abortAfterUpload) return void req.destroy();
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
      plan.onSent?.(() => req.destroy());
    };
    pump();
  });
}

describe('upstream faults', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let up: FaultUpstream;
  let dir: string;
  const proxies: RunningProxy[] = [];
  const agents: Agent[] = [];
  let proxy: RunningProxy;
  let events: TapEvent[];
  /** Same upstreams, with timeouts short enough to reach in a test. */
  let impatient: RunningProxy;

  const start = async (more: Partial<ProxyOptions> = {}): Promise<{ proxy: RunningProxy; events: TapEvent[] }> => {
    const tap = new Tap();
    const seen: TapEvent[] = [];
    tap.subscribe((e) => void seen.push(e));
    const p = await startProxy({
      dataDir: mkdtempSync(join(dir, 'proxy-')),
      port: 0,
      intercept: [FAULTY, SILENT, MISNAMED],
      upstreamCaFiles: [pki.caCertPath],
      map: [
        parseMapping(`${FAULTY}:443=127.0.0.1:${up.tlsPort}`),
        parseMapping(`${MISNAMED}:443=127.0.0.1:${up.tlsPort}`),
        parseMapping(`${SILENT}:443=127.0.0.1:${up.silentPort}`),
      ],
      onlyMapped: true,
      tap,
      ...more,
    });
    proxies.push(p);
    return { proxy: p, events: seen };
  };
  const via = (p: RunningProxy): Agent => {
    const agent = new TunnelAgent({ proxyUrl: p.url, ca: p.ca.certPem }, { keepAlive: false });
    agents.push(agent);
    return agent;
  };
  const direct = (): Agent => {
    const agent = new DirectAgent(up.tlsPort, pki.caCert);
    agents.push(agent);
    return agent;
  };
  /** The upstream's view: every connection it accepted has been closed again. */
  const released = async (): Promise<void> => {
    await up.allClosed();
    assert.equal(up.openSockets(), 0);
  };

  before(async () => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'llmc-faults-'));
    up = await startFaultUpstream(pki.serverCert([FAULTY, SILENT]));
    ({ proxy, events } = await start());
    ({ proxy: impatient } = await start({ upstreamTimeouts: { tlsMs: 300, idleMs: 300 } }));
  });
  after(async () => {
    for (const a of agents) a.destroy();
    await Promise.allSettled(proxies.map((p) => p.close()));
    await up.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('an upstream that answers 413 before reading the upload and resets: the client gets the 413, as directly', { timeout: 60_000 }, async () => {
    const path = `${FAULTS.early413}?close=reset`;
    const expected = { status: 413, body: EARLY_413_BODY };
    assert.deepEqual(await send(direct(), FAULTY, path, { upload: UPLOAD }), expected, 'the direct baseline');
    for (let i = 0; i < 5; i++) assert.deepEqual(await send(via(proxy), FAULTY, path, { upload: UPLOAD }), expected, `attempt ${i + 1}`);
    const heads = events.filter((e): e is Extract<TapEvent, { type: 'response-head' }> => e.type === 'response-head');
    assert.ok(heads.filter((e) => e.statusCode === 413).length >= 5, 'the capture records the 413');
    await released();
  });

  it('curl, uploading a file without Expect: the 413 too', async () => {
    const file = join(dir, 'upload.bin');
    writeFileSync(file, Buffer.alloc(UPLOAD, 0x61));
    for (let i = 0; i < 3; i++) {
      const res = await curl(`https://${FAULTY}${FAULTS.early413}?close=reset`, ['--proxy', proxy.url, '--cacert', proxy.ca.certPath, '-H', 'Expect:', '--data-binary', `@${file}`]);
      assert.equal(res.statusCode, 413, res.stderr);
      assert.equal(res.body.toString(), EARLY_413_BODY);
    }
    await released();
  });

  it('an upstream that closes before any header: the connection closes with no answer, as directly', async () => {
    const baseline = await send(direct(), FAULTY, FAULTS.closeBeforeHeaders);
    assert.deepEqual(baseline, { error: 'socket hang up', partial: '' });
    assert.deepEqual(await send(via(proxy), FAULTY, FAULTS.closeBeforeHeaders), baseline);
    const end = events.find((e) => e.type === 'exchange-end' && e.outcome === 'upstream-error' && /without answering/.test(e.error ?? ''));
    assert.ok(end, 'the capture says the upstream closed without answering');
    await released();
  });

  it('a pooled upstream connection closed as it is reused: the request is sent again on a new one', async () => {
    // A proxy of its own, whose pool goes with it; keepAlive: false on the client's side, so only
    // the proxy's pool is reused.
    const own = await start();
    const first = await send(via(own.proxy), FAULTY, FAULTS.keepAliveOnce);
    assert.deepEqual(first, { status: 200, body: 'ok' });
    for (const upload of [undefined, UPLOAD / 16]) {
      const again = await send(via(own.proxy), FAULTY, FAULTS.keepAliveOnce, upload === undefined ? {} : { upload });
      assert.deepEqual(again, { status: 200, body: 'ok' }, 'the proxy passed on the closed pooled connection');
    }
    assert.equal(own.events.filter((e) => e.type === 'exchange-end' && e.outcome === 'complete').length, 3);
    await own.proxy.close();
    await released();
  });

  it('an upstream reset mid-stream: the client gets the first event, then an error', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const got = await send(via(proxy), FAULTY, FAULTS.resetMidStream);
    assert.ok('error' in got, 'the cut stream looked complete');
    assert.equal(got.partial, FIRST_EVENT);
    await released();
  });

  it('an upstream certificate for another name: 502 naming the problem', async () => {
    const res = await send(via(proxy), MISNAMED, '/json');
    assert.ok('status' in res && res.status === 502, JSON.stringify(res));
    assert.match(res.body, /certificate for misnamed\.example\.test was rejected/);
    await released();
  });

  it('a TLS handshake that never completes: released as soon as the client leaves', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const before = up.acceptedCount();
    const pending = send(via(proxy), SILENT, '/json', { onSent: (abort) => void up.accepted(before + 1).then(abort) });
    assert.ok('error' in (await pending));
    await released();
  });

  it('a TLS handshake that never completes: 504 after the handshake timeout, naming the phase', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const res = await send(via(impatient), SILENT, '/json');
    assert.ok('status' in res && res.status === 504, JSON.stringify(res));
    assert.match(res.body, /did not complete the TLS handshake within 300 ms/);
    await released();
  });

  it('no response headers: 504 after the idle timeout; and released when the client leaves first', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const res = await send(via(impatient), FAULTY, FAULTS.silentHeaders);
    assert.ok('status' in res && res.status === 504, JSON.stringify(res));
    assert.match(res.body, /sent nothing for 300 ms/);
    await released();
    // The client leaves once this request has reached the upstream, which then never answers.
    const sofar = up.requestCount(FAULTS.silentHeaders);
    const left = send(via(proxy), FAULTY, `${FAULTS.silentHeaders}?leave`, { onSent: (abort) => void up.requested(FAULTS.silentHeaders, sofar + 1).then(abort) });
    assert.ok('error' in (await left));
    await released();
  });

  it('a body that stops: the client gets what came, then an error after the idle timeout', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const res = await send(via(impatient), FAULTY, FAULTS.silentBody);
    assert.ok('error' in res, 'a stalled stream looked complete');
    assert.equal(res.partial, FIRST_EVENT);
    await released();
  });

  it('a client that leaves mid-stream or mid-upload releases the upstream connection', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const midStream = await send(via(proxy), FAULTY, FAULTS.silentBody, { abortOnFirstBytes: true });
    assert.equal(midStream.partial, FIRST_EVENT);
    await released();
    const midUpload = await send(via(proxy), FAULTY, `${FAULTS.silentHeaders}?upload`, { upload: UPLOAD, abortAfterUpload: 4 * 1024 * 1024 });
    assert.ok('error' in midUpload);
    await released();
  });
});
