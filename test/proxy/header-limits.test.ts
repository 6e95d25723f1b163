// Header limits are deliberate and the same both ways: a request with 10,000 headers (about
// 140 KB, under the 256 KiB limit) reaches the upstream with every one of them, and a response
// whose header block is over Node's default 16 KiB reaches the client instead of becoming a 502.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { fetchVia } from '../support/proxied-request';
import { ANTHROPIC, startHarness, type Harness } from '../support/proxy-harness';

describe('header limits', { timeout: 30_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('10,000 request headers all reach the upstream, in order', async () => {
    // A flat header list gets no Host header from Node's client: give it one.
    const headers: string[] = ['host', ANTHROPIC];
    for (let i = 0; i < 10_000; i++) headers.push(`x-h-${i}`, `value-${i}`);
    const res = await fetchVia(h.agent({ keepAlive: false }), ANTHROPIC, 443, { method: 'POST', path: '/echo?many-headers', headers: headers as never, body: ['{}'] });
    assert.equal(res.statusCode, 200);
    const got = h.fake.requests.find((r) => r.url === '/echo?many-headers');
    const names = (got?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).filter((n) => n.startsWith('x-h-'));
    assert.equal(names.length, 10_000);
    assert.equal(names[9_999], 'x-h-9999');
  });

  it('a 20 KiB response header block reaches the client', async () => {
    // The test's own client must accept a large header block too.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ host: ANTHROPIC, port: 443, path: '/big-header?kib=20', agent: h.agent({ keepAlive: false }), maxHeaderSize: 64 * 1024 })
        .on('response', resolve).on('error', reject).end();
    });
    res.resume();
    assert.equal(res.statusCode, 200);
    assert.equal(String(res.headers['x-big']).length, 20 * 1024);
  });
});
