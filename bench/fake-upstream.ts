// The fake model API every column talks to. It runs in its own process so that its event loop
// (timers, TLS encryption) never competes with the client's measurements in one loop.
//
//   GET /small              a short JSON body (warm-up, first request on a new connection)
//   GET /sse?n=N&gap=MS     N Anthropic-like SSE events, the first at once, then one every MS ms;
//                           each carries "t", process.hrtime.bigint() taken just before the write.
//                           hrtime is CLOCK_MONOTONIC, shared by every process on this machine,
//                           so the client can subtract it from its own receive time.
//   GET /bulk?bytes=N       N bytes of body, streamed in 64 KiB writes that respect backpressure
//
// Usage: node --import tsx bench/fake-upstream.ts KEY.pem CERT.pem
// Prints one JSON line {"port":N} on stdout when listening on 127.0.0.1.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';

const [keyPath, certPath] = process.argv.slice(2);
if (!keyPath || !certPath) {
  console.error('usage: fake-upstream.ts KEY CERT');
  process.exit(2);
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');
// Real text deltas are short; this padding brings an event to ~230 bytes, like the API's.
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(2);
const MAX_EVENTS = 100_000;
const MAX_BULK = 2 * 1024 * 1024 * 1024;

const server = createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath), keepAliveTimeout: 60_000 }, (req, res) => {
  const url = new URL(req.url ?? '/', 'https://fake');
  // Drain the request body (there is none, but a proxy may send an empty chunked one).
  req.resume();
  if (url.pathname === '/small') return small(res);
  if (url.pathname === '/sse') return sse(res, clamp(url.searchParams.get('n'), 1, MAX_EVENTS), clamp(url.searchParams.get('gap'), 0, 1000));
  if (url.pathname === '/bulk') return bulk(res, clamp(url.searchParams.get('bytes'), 0, MAX_BULK));
  res.writeHead(404, { 'content-length': '0' }).end();
});

function clamp(text: string | null, min: number, max: number): number {
  const n = Number(text);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.floor(n))) : min;
}

function small(res: ServerResponse): void {
  const body = Buffer.from(JSON.stringify({ id: 'msg_bench', type: 'message', ok: true }));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.end(body);
}

function event(index: number): string {
  const data = JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: TEXT }, i: index, t: process.hrtime.bigint().toString() });
  return `event: content_block_delta\ndata: ${data}\n\n`;
}

function sse(res: ServerResponse, n: number, gapMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // Headers and the first event leave in one write, as the API sends message_start at once:
  // the client's time-to-first-byte is then a pure request/response round trip.
  res.write(event(0));
  let sent = 1;
  if (sent >= n) return void res.end();
  // Each event is timed on its own, so timer jitter shifts only when an event is sent,
  // never what the client computes from it.
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(event(sent++));
    if (sent >= n) {
      clearInterval(timer);
      res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    }
  }, gapMs);
  res.on('close', () => clearInterval(timer));
}

function bulk(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => { left = 0; });
  pump();
}

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});

// The parent ends us with SIGTERM; losing the parent (stdin closed) ends us too.
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
