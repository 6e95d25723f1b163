// With credentials required, every way into the proxy (CONNECT, absolute-form plain HTTP, and a
// plain-HTTP WebSocket upgrade) answers a missing or wrong token with the same
// `407 Proxy Authentication Required` and a `Proxy-Authenticate` challenge, so a client knows
// to retry with credentials; with the right token the upgrade goes through.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ANTHROPIC, PLAIN_HOST, startHarness, type Harness, type ProxyUnderTest } from '../support/proxy-harness';

interface RawHead {
  statusLine: string;
  headers: Map<string, string>;
}

/** Sends raw bytes to the proxy and reads the response head, as a minimal client would. */
function rawRequest(port: number, request: string): Promise<RawHead> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = Buffer.alloc(0);
    const finish = (): void => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no complete response head: ${JSON.stringify(text)}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
      socket.destroy();
      resolve({ statusLine, headers });
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      // A 101 keeps the socket open; any other answer here ends with the connection.
      if (received.toString('latin1').startsWith('HTTP/1.1 101') && received.includes('\r\n\r\n')) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
  });
}

function basic(user: string, token: string): string {
  return `Proxy-Authorization: Basic ${Buffer.from(`${user}:${token}`).toString('base64')}\r\n`;
}

const upgrade = (credentials: string): string =>
  `GET http://${PLAIN_HOST}/ws HTTP/1.1\r\nHost: ${PLAIN_HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${credentials}\r\n`;
const connectTo = (credentials: string): string => `CONNECT ${ANTHROPIC}:443 HTTP/1.1\r\nHost: ${ANTHROPIC}:443\r\n${credentials}\r\n`;
const plainGet = (credentials: string): string =>
  `GET http://${PLAIN_HOST}/json HTTP/1.1\r\nHost: ${PLAIN_HOST}\r\nConnection: close\r\n${credentials}\r\n`;

function assertChallenge(head: RawHead, what: string): void {
  assert.equal(head.statusLine, 'HTTP/1.1 407 Proxy Authentication Required', what);
  assert.equal(head.headers.get('proxy-authenticate'), 'Basic realm="LLM Capture"', what);
}

describe('proxy authentication', { timeout: 60_000 }, () => {
  let h: Harness;
  let p: ProxyUnderTest;
  before(async () => {
    h = await startHarness();
    p = await h.startProxy({ auth: { token: 'secret', required: true } });
  });
  after(() => h.close());

  test('a plain-HTTP WebSocket upgrade without credentials gets 407 with a Proxy-Authenticate challenge', async () => {
    assertChallenge(await rawRequest(p.proxy.port, upgrade('')), 'no credentials');
  });

  test('a plain-HTTP WebSocket upgrade with a wrong token gets 407 with a Proxy-Authenticate challenge', async () => {
    assertChallenge(await rawRequest(p.proxy.port, upgrade(basic('term-1', 'wrong'))), 'wrong token');
  });

  test('CONNECT and plain HTTP answer a missing token with the same 407', async () => {
    assertChallenge(await rawRequest(p.proxy.port, connectTo('')), 'CONNECT');
    assertChallenge(await rawRequest(p.proxy.port, plainGet('')), 'plain HTTP');
  });

  test('with the right token the plain-HTTP upgrade reaches the upstream and is labelled', async () => {
    const head = await rawRequest(p.proxy.port, upgrade(basic('term-ws', 'secret')));
    assert.equal(head.statusLine, 'HTTP/1.1 101 Switching Protocols');
    const opened = await p.waitFor('connection-opened', (e) => e.targetHost === PLAIN_HOST && e.label === 'term-ws');
    assert.equal(opened.mode, 'plain-http');
  });
});
