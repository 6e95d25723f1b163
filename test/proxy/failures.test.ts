// Failures reach the client as failures, with a reason, and
// never as a clean, complete answer; the tap records them; nothing leaves loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { SSE_EVENTS } from '../support/fake-upstream';
import { DEADLOCK_TIMEOUT, ANTHROPIC, BLIND_HOST, DEAD_HOST, UNMAPPED_BLIND, UNMAPPED_INTERCEPTED, startHarness, type Harness } from '../support/proxy-harness';
import { curl, curlStream, fetchVia, openTunnel, tlsThroughProxy, TunnelError } from '../support/proxied-request';
import { sseEvents } from '../support/sse';
import { Tap } from '../../src/proxy';

function get(h: Harness, path: string): Promise<{ req: ReturnType<typeof httpsRequest>; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: ANTHROPIC, port: 443, path, agent: h.agent() });
    req.on('response', (res) => resolve({ req, res })).on('error', reject).end();
  });
}

describe('failures', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('node: an upstream reset mid-SSE reaches the client as an error, not a clean end', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { res } = await get(h, '/sse-reset?gate=reset-node');
    const events = sseEvents(res);
    assert.equal((await events.next()).value, SSE_EVENTS[0]);
    h.fake.release('reset-node');
    await assert.rejects(async () => {
      for await (const _ of events) { /* drain */ }
    }, (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' || /aborted/.test(e.message));
  });

  test('curl: an upstream reset mid-SSE makes curl fail with 18 or 56', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { child, exit } = curlStream(`https://${ANTHROPIC}/sse-reset?gate=reset-curl`, ['--proxy', h.proxy.url, '--cacert', h.proxy.ca.certPath]);
    const events = sseEvents(child.stdout);
    assert.equal((await events.next()).value, SSE_EVENTS[0]);
    h.fake.release('reset-curl');
    for await (const _ of events) { /* drain */ }
    assert.ok([18, 56].includes(await exit), 'curl saw a clean end of a cut stream');
  });

  test('onlyMapped: an unmapped intercepted host gets 502 with a plain-text reason', async () => {
    const res = await fetchVia(h.agent(), UNMAPPED_INTERCEPTED, 443, { path: '/v1/chat/completions' });
    assert.equal(res.statusCode, 502);
    const type = res.rawHeaders[res.rawHeaders.findIndex((x) => x.toLowerCase() === 'content-type') + 1];
    assert.match(type, /^text\/plain/);
    assert.ok(res.body.length > 0, 'no reason given');
  });

  test('onlyMapped: CONNECT to an unmapped, non-intercepted host is refused', async () => {
    await assert.rejects(openTunnel(h.proxy.url, UNMAPPED_BLIND, 443), (e: unknown) => e instanceof TunnelError && e.statusCode >= 400);
  });

  test('an unreachable upstream (closed port) gives 502 with a reason', async () => {
    const res = await fetchVia(h.agent(), DEAD_HOST, 443, { path: '/v1/x' });
    assert.equal(res.statusCode, 502);
    assert.ok(res.body.length > 0, 'no reason given');
    const end = await h.waitFor('exchange-end', (e) => e.outcome === 'upstream-error');
    assert.ok(end.error, 'the tap has no error text');
  });

  test('a client without our CA fails, and the tap says it rejected our certificate', { timeout: DEADLOCK_TIMEOUT }, async () => {
    // Node verifies after the handshake and just closes, without a TLS alert.
    const rejectedBy = async (): Promise<number> => {
      const e = await h.waitFor('tls-handshake', (x) => x.outcome === 'client-rejected-certificate' && !seen.has(x.connectionId));
      seen.add(e.connectionId);
      const opened = await h.waitFor('connection-opened', (o) => o.connectionId === e.connectionId);
      assert.equal(opened.targetHost, ANTHROPIC);
      return e.connectionId;
    };
    const seen = new Set<number>();
    await assert.rejects(tlsThroughProxy({ proxyUrl: h.proxy.url }, ANTHROPIC), (e: NodeJS.ErrnoException) => /CERT|SIGNATURE|ISSUER/.test(e.code ?? ''));
    await rejectedBy();
    // curl (OpenSSL) says so with an "unknown CA" alert during the handshake.
    const res = await curl(`https://${ANTHROPIC}/json`, ['--proxy', h.proxy.url, '--cacert', h.pki.caCertPath]);
    assert.equal(res.exitCode, 60, res.stderr);
    await rejectedBy();
  });

  test('a client abort mid-stream aborts the upstream response', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { req, res } = await get(h, '/sse-gated?gate=abort');
    const events = sseEvents(res);
    assert.equal((await events.next()).value, SSE_EVENTS[0]);
    req.destroy();
    await h.fake.reached('abort:closed');
    const end = await h.waitFor('exchange-end', (e) => e.outcome === 'client-aborted');
    assert.ok(end.exchangeId > 0);
  });

  test('auth required: 407 without credentials, success with label:token, label in the tap', async () => {
    const p = await h.startProxy({ auth: { token: 'secret', required: true } });
    await assert.rejects(openTunnel(p.proxy.url, ANTHROPIC, 443), (e: unknown) => e instanceof TunnelError && e.statusCode === 407);
    await assert.rejects(openTunnel(p.target('term-1', 'wrong').proxyUrl, ANTHROPIC, 443), (e: unknown) => e instanceof TunnelError && e.statusCode === 407);
    const res = await fetchVia(p.agent({}, 'term-1'), ANTHROPIC, 443, { path: '/json' });
    assert.equal(res.statusCode, 200);
    const opened = await p.waitFor('connection-opened', (e) => e.targetHost === ANTHROPIC && e.label !== undefined);
    assert.equal(opened.label, 'term-1');
  });

  test('optional auth: a label tags the connection, and no credentials still work', async () => {
    const p = await h.startProxy({ auth: { token: 'secret', required: false } });
    assert.equal((await fetchVia(p.agent(), ANTHROPIC, 443, { path: '/json' })).statusCode, 200);
    assert.equal((await fetchVia(p.agent({}, 'term-2'), ANTHROPIC, 443, { path: '/json' })).statusCode, 200);
    const opened = await p.waitFor('connection-opened', (e) => e.label !== undefined);
    assert.equal(opened.label, 'term-2');
  });

  test('a throwing tap listener does not break forwarding', async () => {
    const tap = new Tap({ onListenerError: () => undefined });
    tap.subscribe(() => {
      throw new Error('listener bug');
    });
    tap.subscribe(() => Promise.reject(new Error('async listener bug')));
    const p = await h.startProxy({ tap });
    const res = await fetchVia(p.agent(), ANTHROPIC, 443, { path: '/sse' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.toString(), SSE_EVENTS.join(''));
    await p.waitFor('exchange-end');
  });

  test('a non-intercepted host is tunnelled blind: the client sees the upstream certificate', async () => {
    const socket = await tlsThroughProxy({ proxyUrl: h.proxy.url, ca: h.pki.caCert }, BLIND_HOST);
    const cert = socket.getPeerCertificate();
    assert.equal(cert.issuer.CN, 'LLM Capture Test Upstream CA');
    socket.destroy();
    const opened = await h.waitFor('connection-opened', (e) => e.targetHost === BLIND_HOST);
    assert.equal(opened.mode, 'tunnel');
    // Our CA alone does not vouch for it: nothing was re-signed.
    await assert.rejects(tlsThroughProxy({ proxyUrl: h.proxy.url, ca: h.proxy.ca.certPem }, BLIND_HOST));
  });

  test('a CA file whose certificate cannot be read fails Start and names the file (the upstream context is built after listening)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmc-badca-'));
    try {
      const file = join(dir, 'bad-ca.pem');
      writeFileSync(file, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
      await assert.rejects(h.startProxy({ upstreamCaFiles: [file] }), (e: Error) => e.message.includes(file) && e.message.includes('cannot be read'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
