// A request the HTTP parser refuses gets the answer a well-behaved server gives (400, or 431 for
// a header block over the limit) instead of a connection closed without a status line, the
// refusal is reported with the connection it came on, and the proxy serves the next request.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fetchVia, tlsThroughProxy } from '../support/proxied-request';
import { ANTHROPIC, startHarness, type Harness } from '../support/proxy-harness';

/** Writes `raw` and reads until the other side closes. */
function exchange(socket: Duplex, raw: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('close', () => resolve(got));
    socket.on('error', () => undefined);
    socket.write(raw);
  });
}

describe('malformed requests', { timeout: 30_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('Content-Length together with Transfer-Encoding inside the tunnel: 400, and the refusal is reported', async () => {
    const tls = await tlsThroughProxy(h.target(), ANTHROPIC);
    const answer = await exchange(tls, `POST /v1/messages HTTP/1.1\r\nHost: ${ANTHROPIC}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const refused = await h.waitFor('error', (e) => /malformed request/.test(e.message));
    assert.equal(typeof refused.connectionId, 'number', 'reported with the connection it came on');
  });

  it('a duplicate Content-Length: 400', async () => {
    const tls = await tlsThroughProxy(h.target(), ANTHROPIC);
    const answer = await exchange(tls, `POST /v1/messages HTTP/1.1\r\nHost: ${ANTHROPIC}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`);
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('a header block over the limit: 431', async () => {
    const tls = await tlsThroughProxy(h.target(), ANTHROPIC);
    const answer = await exchange(tls, `GET /json HTTP/1.1\r\nHost: ${ANTHROPIC}\r\nX-Big: ${'a'.repeat(300 * 1024)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  });

  it('garbage sent to the proxy itself: 400', async () => {
    const port = Number(new URL(h.proxy.url).port);
    const socket = connect(port, '127.0.0.1');
    const answer = await exchange(socket, 'HELLO PROXY\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('the proxy serves the next request', async () => {
    const res = await fetchVia(h.agent({ keepAlive: false }), ANTHROPIC, 443, { path: '/json' });
    assert.equal(res.statusCode, 200);
  });
});
