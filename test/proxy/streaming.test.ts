// Nothing is buffered. The fake sends SSE event 2 (or reads
// request chunk 2) only after the *client* has event 1 (or the fake has chunk 1), so a
// buffering proxy deadlocks and the test fails on its timeout. No wall-clock assertions.
// Then WebSockets: a Codex-like client on wss://api.openai.com through the proxy, with
// permessage-deflate negotiated on each leg, messages keeping their type, fragments arriving
// whole, and ping/pong and close codes crossing in both directions.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { WebSocket, type RawData } from 'ws';
import { closeCommand, REJECT_BODY, SSE_EVENTS, type FakeWebSocket } from '../support/fake-upstream';
import { curlStream } from '../support/proxied-request';
import { ANTHROPIC, DEADLOCK_TIMEOUT, OPENAI, startHarness, type Harness } from '../support/proxy-harness';
import { sseEvents } from '../support/sse';

describe('streaming without buffering', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('node: SSE event 2 is sent only after the client has event 1', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      httpsRequest({ host: ANTHROPIC, port: 443, path: '/sse-gated?gate=node-sse', agent: h.agent(), headers: { accept: 'text/event-stream' } })
        .on('response', resolve).on('error', reject).end();
    });
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const events = sseEvents(res);
    const first = await events.next();
    assert.equal(first.value, SSE_EVENTS[0]);
    h.fake.release('node-sse');
    const rest: string[] = [];
    for await (const e of events) rest.push(e);
    assert.deepEqual(rest, SSE_EVENTS.slice(1));
  });

  test('curl: SSE event 2 is sent only after curl has printed event 1', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { child, exit } = curlStream(`https://${ANTHROPIC}/sse-gated?gate=curl-sse`, ['--proxy', h.proxy.url, '--cacert', h.proxy.ca.certPath]);
    const events = sseEvents(child.stdout);
    const first = await events.next();
    assert.equal(first.value, SSE_EVENTS[0]);
    h.fake.release('curl-sse');
    const rest: string[] = [];
    for await (const e of events) rest.push(e);
    assert.deepEqual(rest, SSE_EVENTS.slice(1));
    assert.equal(await exit, 0);
  });

  test('a request body is streamed: the fake has chunk 1 before the client sends chunk 2', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const req = httpsRequest({ host: ANTHROPIC, port: 443, method: 'POST', path: '/upload?mark=upload', agent: h.agent(), headers: { 'content-type': 'application/octet-stream' } });
    const response = new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    req.write('chunk-one;');
    await h.fake.reached('upload:first-chunk');
    req.end('chunk-two');
    const res = await response;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const echoed = JSON.parse(Buffer.concat(chunks).toString()) as { body: string };
    assert.equal(Buffer.from(echoed.body, 'base64').toString(), 'chunk-one;chunk-two');
  });
});

const HEADERS = { authorization: 'Bearer sk-fake', 'openai-beta': 'responses_websockets=2026-02-06' };

describe('WebSocket relay', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  /** Opens a client socket through the proxy and finds its upstream twin by session-id. */
  async function open(session: string): Promise<{ ws: WebSocket; up: FakeWebSocket; response: IncomingMessage }> {
    const ws = new WebSocket(`wss://${OPENAI}/v1/responses`, { agent: h.agent(), perMessageDeflate: true, headers: { ...HEADERS, 'session-id': session } });
    // 'open' follows 'upgrade' in the same tick, so listen for both before awaiting either.
    const upgraded = once(ws, 'upgrade') as Promise<[IncomingMessage]>;
    const opened = once(ws, 'open');
    const [[response]] = await Promise.all([upgraded, opened]);
    const up = await h.fake.webSocket((f) => f.rawHeaders.includes(session));
    return { ws, up, response };
  }

  function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
    return new Promise((resolve) => ws.once('message', (data: RawData, binary: boolean) => resolve({ data: data as Buffer, binary })));
  }

  test('handshake: deflate on both legs, headers forwarded both ways', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { ws, up, response } = await open('sess-handshake');
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.match(String(response.headers['sec-websocket-extensions']), /^permessage-deflate/);
    assert.match(up.negotiatedExtensions ?? '', /^permessage-deflate/);
    assert.equal(response.headers['x-fake-upstream'], 'ws-echo');
    const got = new Map<string, string>();
    for (let i = 0; i < up.rawHeaders.length; i += 2) got.set(up.rawHeaders[i].toLowerCase(), up.rawHeaders[i + 1]);
    assert.equal(got.get('authorization'), HEADERS.authorization);
    assert.equal(got.get('openai-beta'), HEADERS['openai-beta']);
    assert.equal(got.get('session-id'), 'sess-handshake');
    assert.equal(up.url, '/v1/responses');
    ws.close();
  });

  test('text, binary and fragmented messages are echoed with their type; tap sees both ways', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { ws, up } = await open('sess-messages');
    let reply = nextMessage(ws);
    ws.send('{"type":"response.create"}');
    assert.deepEqual(await reply, { data: Buffer.from('{"type":"response.create"}'), binary: false });

    reply = nextMessage(ws);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    ws.send(bytes);
    assert.deepEqual(await reply, { data: bytes, binary: true });

    reply = nextMessage(ws);
    ws.send('frag-1 ', { fin: false });
    ws.send('frag-2 ', { fin: false });
    ws.send('frag-3', { fin: true });
    assert.deepEqual(await reply, { data: Buffer.from('frag-1 frag-2 frag-3'), binary: false });
    assert.deepEqual(up.received.at(-1), { data: Buffer.from('frag-1 frag-2 frag-3'), binary: false });

    const head = await h.waitFor('request-head', (e) => e.upgrade && e.rawHeaders.includes('sess-messages'));
    for (const direction of ['client-to-server', 'server-to-client'] as const) {
      const e = await h.waitFor('ws-message', (m) => m.exchangeId === head.exchangeId && m.direction === direction && m.opcode === 'binary');
      assert.deepEqual(e.data, bytes);
      const t = await h.waitFor('ws-message', (m) => m.exchangeId === head.exchangeId && m.direction === direction && m.data.toString() === 'frag-1 frag-2 frag-3');
      assert.equal(t.opcode, 'text');
    }
    ws.close();
  });

  test('a ping reaches the upstream and its pong comes back', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { ws, up } = await open('sess-ping');
    const pong = once(ws, 'pong');
    ws.ping(Buffer.from('are-you-there'));
    const [data] = (await pong) as [Buffer];
    assert.equal(data.toString(), 'are-you-there');
    assert.ok(up.pings.some((p) => p.toString() === 'are-you-there'), 'the proxy answered the ping itself');
    ws.close();
  });

  test('client-initiated close 4001 "bye" reaches the upstream and comes back', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { ws, up } = await open('sess-close-client');
    const closed = once(ws, 'close');
    ws.close(4001, 'bye');
    assert.deepEqual(await up.closed, { code: 4001, reason: 'bye' });
    const [code, reason] = (await closed) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'bye');
  });

  test('server-initiated close 4002 reaches the client', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const { ws, up } = await open('sess-close-server');
    const closed = once(ws, 'close');
    ws.send(closeCommand(4002, 'server says bye'));
    const [code, reason] = (await closed) as [number, Buffer];
    assert.equal(code, 4002);
    assert.equal(reason.toString(), 'server says bye');
    assert.equal((await up.closed).code, 4002);
  });

  test('a non-101 upstream answer (426 + body) is passed back as it came', { timeout: DEADLOCK_TIMEOUT }, async () => {
    const ws = new WebSocket(`wss://${OPENAI}/ws-reject`, { agent: h.agent(), perMessageDeflate: true, headers: HEADERS });
    ws.on('error', () => undefined);
    const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    req.destroy();
    assert.equal(res.statusCode, 426);
    assert.equal(res.headers['x-fake-upstream'], 'reject');
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(Buffer.concat(chunks).toString(), REJECT_BODY);
  });
});
