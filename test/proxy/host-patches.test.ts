// VS Code's extension host patches http.request and https.request in place and, for any host but
// localhost, swaps the caller's agent for its own, which dials the host by DNS (@vscode/proxy-agent
// with the default http.proxySupport "override"). Inside VS Code the proxy's upstream leg must
// still use its own agents: mappings, upstream CA files, the upstream proxy and keep-alive. This
// patches the modules the same way, then sends HTTP and WebSocket traffic through a mapped proxy.
// (Only loopback is up where the tests run, so a request the patch got hold of fails with ENOTFOUND.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ANTHROPIC, OPENAI, startHarness, type Harness } from '../support/proxy-harness';
import { fetchVia, TunnelAgent } from '../support/proxied-request';

type RequestFn = typeof https.request;

/** Patches http(s).request as VS Code does; returns the hosts whose agent it replaced, and an undo. */
function patchLikeVsCode(): { hijacked: string[]; undo(): void } {
  const hijacked: string[] = [];
  const saved = [http.request, https.request] as const;
  const patch = (mod: { request: RequestFn }, original: RequestFn, fresh: () => http.Agent) => {
    mod.request = ((options: https.RequestOptions, cb?: (res: http.IncomingMessage) => void) => {
      const host = String(options.hostname ?? options.host ?? '');
      // The test's own clients tunnel through the proxy with a TunnelAgent; leave those be.
      if (host !== 'localhost' && host !== '127.0.0.1' && !(options.agent instanceof TunnelAgent)) {
        hijacked.push(host);
        options = { ...options, agent: fresh() };
      }
      return cb ? original(options, cb) : original(options);
    }) as RequestFn;
  };
  patch(http as unknown as { request: RequestFn }, saved[0], () => new http.Agent());
  patch(https as unknown as { request: RequestFn }, saved[1], () => new https.Agent());
  return {
    hijacked,
    undo() {
      (http as unknown as { request: RequestFn }).request = saved[0];
      (https as unknown as { request: RequestFn }).request = saved[1];
    },
  };
}

describe('a host that patches http(s).request (VS Code) does not take over the upstream leg', { timeout: 60_000 }, () => {
  let h: Harness;
  let patched: ReturnType<typeof patchLikeVsCode>;
  before(async () => {
    h = await startHarness();
    patched = patchLikeVsCode();
  });
  after(async () => {
    patched.undo();
    await h.close();
  });

  test('HTTPS requests still reach the mapped upstream', async () => {
    const res = await fetchVia(h.agent(), ANTHROPIC, 443, { path: '/json?patched=1' });
    assert.equal(res.statusCode, 200, res.body.toString());
    assert.deepEqual(patched.hijacked, [], 'the proxy never called the patched request');
  });

  test('WebSockets still reach the mapped upstream', async () => {
    const ws = new WebSocket(`wss://${OPENAI}/v1/responses`, { agent: h.agent(), headers: { 'session-id': 'patched-ws' } });
    await once(ws, 'open');
    const up = await h.fake.webSocket((f) => f.rawHeaders.includes('patched-ws'));
    ws.send('hello');
    const [echo] = (await once(ws, 'message')) as [Buffer];
    assert.equal(echo.toString(), 'hello');
    assert.ok(up.received.some((m) => m.data.toString() === 'hello'));
    ws.close();
    assert.deepEqual(patched.hijacked, [], 'the proxy never called the patched request');
  });
});
