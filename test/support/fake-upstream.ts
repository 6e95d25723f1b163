// A fake upstream for proxy tests, benchmarks and agent runs: HTTPS (or plain HTTP) on
// 127.0.0.1 with scripted routes and a permessage-deflate WebSocket echo. Responses are
// deterministic (no Date header) so a proxied answer can be compared byte for byte with a
// direct one. Gates let a test hold a stream until its *client* has seen a piece of it.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { largeBody, sseEvent, writeSse } from './sse';

export { sseEvent, largeBody };

export interface RecordedRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

export interface FakeWebSocket {
  url: string;
  rawHeaders: string[];
  /** The Sec-WebSocket-Extensions value this server answered with (undefined: none). */
  negotiatedExtensions: string | undefined;
  socket: WebSocket;
  received: { data: Buffer; binary: boolean }[];
  pings: Buffer[];
  /** Resolves with the close code and reason this server saw. */
  closed: Promise<{ code: number; reason: string }>;
}

export interface FakeUpstream {
  port: number;
  /** https://127.0.0.1:port (or http:// for a plain server). */
  origin: string;
  requests: RecordedRequest[];
  webSockets: FakeWebSocket[];
  /** Opens a gate that a gated route waits on (also GET /control/release?gate=NAME). */
  release(gate: string): void;
  /** Resolves when a route has reached a mark (e.g. `NAME:closed`, `NAME:first-chunk`). */
  reached(mark: string): Promise<void>;
  /** Resolves with the first WebSocket (past or future) whose record matches. */
  webSocket(match: (ws: FakeWebSocket) => boolean): Promise<FakeWebSocket>;
  close(): Promise<void>;
}

export const JSON_BODY = Buffer.from('{"id":"msg_fake","type":"message","content":[{"type":"text","text":"Hello from the fake"}]}');
export const CHUNKS = ['first chunk\n', 'second chunk\n', 'third chunk\n'];
export const GZIP_BODY = gzipSync(Buffer.from('{"compressed":true,"text":"' + 'squeeze me '.repeat(200) + '"}'));
export const SSE_EVENTS = [
  sseEvent('message_start', { type: 'message_start', message: { id: 'msg_1' } }),
  sseEvent('content_block_delta', { type: 'content_block_delta', delta: { text: 'Hel' } }),
  sseEvent('content_block_delta', { type: 'content_block_delta', delta: { text: 'lo' } }),
  sseEvent('message_stop', { type: 'message_stop' }),
];
/** A text message that makes the WebSocket echo close with a code and reason instead. */
export function closeCommand(code: number, reason: string): string {
  return `__close__ ${code} ${reason}`;
}
/** The answer to an upgrade on /ws-reject: a proxy must pass it back as it came. */
export const REJECT_BODY = 'use HTTP instead';

export async function startFakeUpstream(tls?: { key: string; cert: string }): Promise<FakeUpstream> {
  const latches = new LatchSet();
  const requests: RecordedRequest[] = [];
  const webSockets: FakeWebSocket[] = [];
  const wsWaiters = new Set<(ws: FakeWebSocket) => void>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    res.sendDate = false;
    route(req, res, latches, requests).catch((e: unknown) => res.destroy(e as Error));
  };
  // Generous limits, so that the proxy's limits are what a test of header sizes measures.
  const limits = { maxHeaderSize: 1024 * 1024 };
  const server: Server = tls ? createHttpsServer({ ...tls, ...limits }, handler) : createHttpServer(limits, handler);
  server.maxHeadersCount = 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
  // Records what we answered, and adds a header the test expects to see through the proxy.
  let lastExtensions: string | undefined;
  wss.on('headers', (headers) => {
    lastExtensions = headers.find((h) => /^sec-websocket-extensions:/i.test(h))?.replace(/^[^:]*:\s*/, '');
    headers.push('X-Fake-Upstream: ws-echo');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith('/ws-reject')) {
      const body = Buffer.from(REJECT_BODY);
      socket.end(`HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nX-Fake-Upstream: reject\r\nContent-Length: ${body.length}\r\n\r\n${REJECT_BODY}`);
      return;
    }
    lastExtensions = undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const record: FakeWebSocket = {
        url: req.url ?? '', rawHeaders: req.rawHeaders, negotiatedExtensions: lastExtensions, socket: ws, received: [], pings: [],
        closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
      };
      ws.on('message', (data: RawData, binary: boolean) => {
        const buf = toBuffer(data);
        record.received.push({ data: buf, binary });
        // `__close__ CODE REASON` makes the server close, for callers outside this process.
        const close = binary ? null : /^__close__ (\d{4})(?: (.*))?$/s.exec(buf.toString());
        if (close) ws.close(Number(close[1]), close[2] ?? '');
        else ws.send(buf, { binary });
      });
      ws.on('ping', (data) => record.pings.push(data));
      ws.on('error', () => undefined);
      webSockets.push(record);
      for (const w of wsWaiters) w(record);
    });
  });
  const sockets = new Set<Socket>();
  server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    webSockets,
    release: (gate) => latches.latch(`gate:${gate}`).open(),
    reached: (mark) => latches.latch(`mark:${mark}`).promise,
    webSocket: (match) => {
      const found = webSockets.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const waiter = (ws: FakeWebSocket): void => {
          if (!match(ws)) return;
          wsWaiters.delete(waiter);
          resolve(ws);
        };
        wsWaiters.add(waiter);
      });
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Routes (query `gate=NAME` / `mark=NAME` name the latches):
//   /json /chunked /gzip /sse        fixed bodies: content-length, chunked, gzip bytes, SSE_EVENTS
//   /sse-gated?gate=G                event 1, mark G:sent-1, wait for gate G, the rest (G:closed on abort)
//   /sse-reset[?gate=G]              two events, then a socket reset (after gate G if given)
//   /large?size=N                    N deterministic bytes       /control/release?gate=G  opens G
//   /upload?mark=M                   marks M:first-chunk, then echoes; anything else echoes as JSON
//   upgrade /ws-reject → 426 + body; any other upgrade → WebSocket echo
async function route(req: IncomingMessage, res: ServerResponse, latches: LatchSet, requests: RecordedRequest[]): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const name = url.searchParams.get('gate') ?? url.searchParams.get('mark') ?? 'default';
  const mark = (what: string): void => latches.latch(`mark:${name}:${what}`).open();
  res.on('close', () => {
    if (!res.writableFinished) mark('closed');
  });
  switch (url.pathname) {
    case '/json':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': JSON_BODY.length, 'X-Request-Id': 'req_fake_1' });
      res.end(JSON_BODY);
      return;
    case '/chunked':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Chunked': 'yes' });
      for (const c of CHUNKS) {
        res.write(c);
        await tick();
      }
      res.end();
      return;
    case '/gzip':
      // Sent compressed whatever the client accepts: the proxy must pass the bytes untouched.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      res.write(GZIP_BODY.subarray(0, 40));
      await tick();
      res.end(GZIP_BODY.subarray(40));
      return;
    case '/sse':
      await writeSse(res, SSE_EVENTS);
      res.end();
      return;
    case '/sse-gated':
      // Event 2 only after the test says its client has event 1: a buffering proxy deadlocks.
      await writeSse(res, SSE_EVENTS.slice(0, 1));
      mark('sent-1');
      await latches.latch(`gate:${name}`).promise;
      if (res.destroyed) return;
      await writeSse(res, SSE_EVENTS.slice(1));
      res.end();
      return;
    case '/sse-reset':
      // With ?gate=NAME the reset waits until the test's client has seen the first events.
      await writeSse(res, SSE_EVENTS.slice(0, 2));
      await (url.searchParams.has('gate') ? latches.latch(`gate:${name}`).promise : tick());
      req.socket.destroy();
      return;
    case '/large': {
      const body = largeBody(Number(url.searchParams.get('size') ?? '1048576'));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    case '/big-header': {
      // A response header block of ?kib=N KiB (one header), over Node's default 16 KiB limit.
      const value = 'h'.repeat(Number(url.searchParams.get('kib') ?? '20') * 1024);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Big': value, 'Content-Length': 2 });
      res.end('ok');
      return;
    }
    case '/control/release':
      latches.latch(`gate:${name}`).open();
      res.writeHead(204).end();
      return;
    case '/upload':
      // Marks the first request chunk, so a test can hold the second until the fake has it.
      req.once('data', () => mark('first-chunk'));
      break;
  }
  // Everything else (and /upload) echoes the request as JSON once it has been read whole.
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
  requests.push(recorded);
  const out = Buffer.from(JSON.stringify({ ...recorded, body: recorded.body.toString('base64') }));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': out.length });
  res.end(out);
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

// Named one-shot latches: one side opens, the other awaits, in either order.
interface Latch {
  promise: Promise<void>;
  open(): void;
}

class LatchSet {
  private readonly latches = new Map<string, Latch>();

  latch(name: string): Latch {
    let latch = this.latches.get(name);
    if (!latch) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      latch = { promise, open };
      this.latches.set(name, latch);
    }
    return latch;
  }
}
