// Through the proxy a client gets the same status, the same
// end-to-end headers (names, case, order) and the same body bytes as straight from the
// upstream, with curl (OpenSSL) and with Node's https, for every kind of body.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CHUNKS, GZIP_BODY, JSON_BODY, largeBody, SSE_EVENTS } from '../support/fake-upstream';
import { ANTHROPIC, PLAIN_HOST, startHarness, type Harness } from '../support/proxy-harness';
import { curl, DirectAgent, endToEnd, fetchVia } from '../support/proxied-request';

const EXPECTED: Record<string, Buffer> = {
  '/json': JSON_BODY,
  '/chunked': Buffer.from(CHUNKS.join('')),
  '/gzip': GZIP_BODY,
  '/sse': Buffer.from(SSE_EVENTS.join('')),
};

describe('forwarding through the proxy', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  for (const path of Object.keys(EXPECTED)) {
    test(`node https ${path}: same status, headers and bytes as a direct request`, async () => {
      const direct = await fetchVia(new DirectAgent(h.fake.port, h.pki.caCert), ANTHROPIC, 443, { path });
      const proxied = await fetchVia(h.agent(), ANTHROPIC, 443, { path });
      assert.equal(proxied.statusCode, direct.statusCode);
      assert.deepEqual(endToEnd(proxied.rawHeaders), endToEnd(direct.rawHeaders));
      assert.ok(proxied.body.equals(direct.body), `${path}: body differs from the direct one`);
      assert.ok(proxied.body.equals(EXPECTED[path]), `${path}: body differs from what the fake sent`);
    });

    test(`curl ${path}: same status, headers and bytes as a direct request`, async () => {
      const direct = await curl(`https://${ANTHROPIC}:${h.fake.port}${path}`, ['--resolve', `${ANTHROPIC}:${h.fake.port}:127.0.0.1`, '--cacert', h.pki.caCertPath]);
      const proxied = await curl(`https://${ANTHROPIC}${path}`, ['--proxy', h.proxy.url, '--cacert', h.proxy.ca.certPath]);
      assert.equal(direct.exitCode, 0, direct.stderr);
      assert.equal(proxied.exitCode, 0, proxied.stderr);
      assert.equal(proxied.statusCode, direct.statusCode);
      assert.deepEqual(endToEnd(proxied.rawHeaders), endToEnd(direct.rawHeaders));
      assert.ok(proxied.body.equals(direct.body), `${path}: body differs from the direct one`);
      assert.ok(proxied.body.equals(EXPECTED[path]), `${path}: body differs from what the fake sent`);
    });
  }

  test('a streamed (chunked) POST body arrives unchanged, headers in order and case', async () => {
    const pieces = ['{"model":"claude",', '"messages":[{"role":"user",', '"content":"hi"}]}'];
    const res = await fetchVia(h.agent(), ANTHROPIC, 443, {
      method: 'POST',
      path: '/v1/messages?beta=true',
      headers: { Host: ANTHROPIC, 'X-Api-Key': 'sk-ant-fake', 'anthropic-version': '2023-06-01', 'Content-Type': 'application/json', 'x-claude-code-session-id': 'sess-1' },
      body: pieces,
    });
    assert.equal(res.statusCode, 200);
    const seen = h.fake.requests.find((r) => r.url === '/v1/messages?beta=true');
    assert.ok(seen, 'the fake never saw the POST');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body.toString(), pieces.join(''));
    assert.deepEqual(endToEnd(seen.rawHeaders), [
      ['Host', ANTHROPIC], ['X-Api-Key', 'sk-ant-fake'], ['anthropic-version', '2023-06-01'],
      ['Content-Type', 'application/json'], ['x-claude-code-session-id', 'sess-1'],
    ]);
  });

  test('curl POST with a body arrives unchanged', async () => {
    const res = await curl(`https://${ANTHROPIC}/v1/echo-curl`, ['--proxy', h.proxy.url, '--cacert', h.proxy.ca.certPath,
      '-H', 'Transfer-Encoding: chunked', '-H', 'Content-Type: text/plain', '--data-binary', 'line one\nline two\n']);
    assert.equal(res.exitCode, 0, res.stderr);
    const seen = h.fake.requests.find((r) => r.url === '/v1/echo-curl');
    assert.equal(seen?.body.toString(), 'line one\nline two\n');
  });

  test('plain-HTTP absolute-form request (node and curl)', async () => {
    const direct = await curl(`http://127.0.0.1:${h.plain.port}/json`, []);
    const viaCurl = await curl(`http://${PLAIN_HOST}/json`, ['--proxy', h.proxy.url]);
    assert.equal(viaCurl.exitCode, 0, viaCurl.stderr);
    assert.equal(viaCurl.statusCode, 200);
    assert.deepEqual(endToEnd(viaCurl.rawHeaders), endToEnd(direct.rawHeaders));
    assert.ok(viaCurl.body.equals(JSON_BODY));

    const url = new URL(h.proxy.url);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: Number(url.port), path: `http://${PLAIN_HOST}/echo?x=1`, headers: { Host: PLAIN_HOST, 'X-Thing': 'kept' }, agent: false });
      req.on('response', resolve).on('error', reject).end();
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    assert.equal(res.statusCode, 200);
    const echoed = JSON.parse(Buffer.concat(chunks).toString()) as { url: string; rawHeaders: string[] };
    // Upstream gets origin-form, as a server expects.
    assert.equal(echoed.url, '/echo?x=1');
    assert.deepEqual(endToEnd(echoed.rawHeaders), [['Host', PLAIN_HOST], ['X-Thing', 'kept']]);
  });

  test('a large body arrives whole, and connection-closed counts the bytes on the wire', async () => {
    const size = 300_000;
    const res = await fetchVia(h.agent(), ANTHROPIC, 443, { path: `/large?size=${size}` });
    assert.ok(res.body.equals(largeBody(size)));
    const head = await h.waitFor('request-head', (e) => e.url.endsWith(`/large?size=${size}`));
    const closed = await h.waitFor('connection-closed', (e) => e.connectionId === head.connectionId);
    // TLS adds framing, so the wire carries a little more than the body in each direction.
    assert.ok(closed.bytesToClient > size, `bytesToClient ${closed.bytesToClient}`);
    assert.ok(closed.bytesFromClient > 0, `bytesFromClient ${closed.bytesFromClient}`);
  });

  test('keep-alive: two requests on one client connection', async () => {
    const agent = h.agent({ keepAlive: true, maxSockets: 1 });
    const first = await fetchVia(agent, ANTHROPIC, 443, { path: '/json?ka=1' });
    const second = await fetchVia(agent, ANTHROPIC, 443, { path: '/json?ka=2' });
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    assert.ok(second.body.equals(JSON_BODY));
    assert.equal(second.reusedSocket, true, 'the client had to open a second connection');
    const a = await h.waitFor('request-head', (e) => e.url.endsWith('/json?ka=1'));
    const b = await h.waitFor('request-head', (e) => e.url.endsWith('/json?ka=2'));
    assert.equal(a.connectionId, b.connectionId);
    assert.equal(a.url, `https://${ANTHROPIC}/json?ka=1`);
  });
});
