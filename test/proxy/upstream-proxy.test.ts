// --upstream-proxy: every upstream connection, intercepted or tunnelled, is chained through a
// corporate HTTP proxy with CONNECT, credentials included, and a refusal there becomes a 502 here.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { JSON_BODY } from '../support/fake-upstream';
import { fetchVia } from '../support/proxied-request';
import { ANTHROPIC, startHarness, type Harness } from '../support/proxy-harness';

interface CorporateProxy {
  url: string;
  connects: { target: string; auth?: string }[];
  refuse: boolean;
  close(): Promise<void>;
}

/** A minimal CONNECT-only HTTP proxy, standing in for a corporate one. */
async function startCorporateProxy(): Promise<CorporateProxy> {
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  const sockets = new Set<net.Socket>();
  const state: CorporateProxy = { url: '', connects: [], refuse: false, close: () => Promise.resolve() };
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    state.connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (state.refuse) return void client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://corp:s3cret@127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return state;
}

describe('chaining through an upstream proxy', { timeout: 60_000 }, () => {
  let h: Harness;
  let corp: CorporateProxy;

  before(async () => {
    corp = await startCorporateProxy();
    h = await startHarness({ upstreamProxy: corp.url });
  });
  after(async () => {
    await h.close();
    await corp.close();
  });

  it('sends intercepted traffic through the upstream proxy, with its credentials, and still verifies the server', async () => {
    const res = await fetchVia(h.agent(), ANTHROPIC, 443, { path: '/json' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.body, JSON_BODY);
    // The mapped address is what the corporate proxy is asked for; TLS is still checked against api.anthropic.com.
    assert.deepEqual(corp.connects.at(-1), { target: `127.0.0.1:${h.fake.port}`, auth: `Basic ${Buffer.from('corp:s3cret').toString('base64')}` });
  });

  it('answers 502 with the reason when the upstream proxy refuses', async () => {
    corp.refuse = true;
    try {
      // A new connection: the agent would reuse the kept-alive one otherwise.
      const fresh = await h.startProxy({ upstreamProxy: corp.url });
      const res = await fetchVia(fresh.agent(), ANTHROPIC, 443, { path: '/json' });
      assert.equal(res.statusCode, 502);
      assert.match(res.body.toString(), /upstream proxy .* refused CONNECT .*403/);
    } finally {
      corp.refuse = false;
    }
  });
});
