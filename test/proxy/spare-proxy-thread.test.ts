// A proxy thread booted ahead of Start (docs/decisions.md, decision 62): the next start takes it
// instead of booting one, and it then forwards and reports like any other; the start after that,
// with no spare left, boots its own. A spare never taken keeps no process alive and is ended on
// request. Real curl through the proxy to a fake upstream on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discardSpareProxyThread, hasSpareProxyThread, prepareProxyThread, startProxyThread, Tap, type ProxyOptions, type TapEvent } from '../../src/proxy';
import { JSON_BODY, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { curl } from '../support/proxied-request';
import { ANTHROPIC } from '../support/proxy-harness';
import { createTestPki, type TestPki } from '../support/test-pki';

describe('a proxy thread booted ahead of Start', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let fake: FakeUpstream;
  const dirs: string[] = [];

  before(async () => {
    pki = createTestPki();
    fake = await startFakeUpstream(pki.serverCert([ANTHROPIC]));
  });

  after(async () => {
    await discardSpareProxyThread();
    await fake?.close();
    for (const d of [...dirs, pki?.dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const options = (tap: Tap): ProxyOptions => {
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-spare-'));
    dirs.push(dataDir);
    return {
      dataDir, port: 0, intercept: [ANTHROPIC], upstreamCaFiles: [pki.caCertPath], onlyMapped: true, tap,
      map: [{ from: { host: ANTHROPIC, port: 443 }, to: { host: '127.0.0.1', port: fake.port } }],
    };
  };

  async function forwardsOnce(): Promise<void> {
    const tap = new Tap();
    const events: TapEvent[] = [];
    tap.subscribe((e) => {
      events.push(e);
    });
    const proxy = await startProxyThread(options(tap));
    try {
      const res = await curl(`https://${ANTHROPIC}/json`, ['--proxy', proxy.url, '--cacert', proxy.ca.certPath]);
      assert.equal(res.statusCode, 200, res.stderr);
      assert.deepEqual(res.body, JSON_BODY);
    } finally {
      await proxy.close();
    }
    assert.ok(events.some((e) => e.type === 'exchange-end' && e.outcome === 'complete'), 'the exchange was reported');
  }

  it('is taken by the next start, which forwards through it; the start after boots its own', async () => {
    prepareProxyThread();
    assert.ok(hasSpareProxyThread());
    await forwardsOnce();
    assert.ok(!hasSpareProxyThread(), 'the start took the spare');
    await forwardsOnce();
  });

  it('is ended on request, and a start without one still works', async () => {
    prepareProxyThread();
    prepareProxyThread();
    assert.ok(hasSpareProxyThread(), 'one spare, however often it is asked for');
    await discardSpareProxyThread();
    assert.ok(!hasSpareProxyThread());
    await forwardsOnce();
  });
});
