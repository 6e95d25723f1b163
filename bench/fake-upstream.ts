// The fake model API every column talks to. It runs in its own process so that its event loop
// (timers, TLS encryption) never competes with the client's measurements in one loop.
//
//   GET /small              a short JSON body (warm-up, first request on a new connection)
//   GET /sse?n=N&gap=MS     N Anthropic-like SSE events, the first at once, then one every MS ms;
//                           each carries "t", process.hrtime.bigint() taken just before the write.
//                           hrtime is CLOCK_MONOTONIC, shared by every process on this machine,
//                           so the client can subtract it from its own receive time.
//   GET /bulk?bytes=N       N bytes of body, streamed in 64 KiB writes that respect backpressure
//   POST /v1/messages?deltas=N&gap=MS
//                           a Claude Code-shaped Anthropic Messages stream, paced and stamped like
//                           /sse (each event's data carries "t"): a request whose newest user turn
//                           holds a tool_result gets a text answer of N deltas (end_turn); any
//                           other gets thinking, text (N deltas in all) and a Bash tool_use.
//
// Usage: node --import tsx bench/fake-upstream.ts KEY.pem CERT.pem
// Prints one JSON line {"port":N} on stdout when listening on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  if (req.method === 'POST' && url.pathname === '/v1/messages') {
    return void messages(req, res, clamp(url.searchParams.get('deltas'), 1, MAX_EVENTS), clamp(url.searchParams.get('gap'), 0, 1000)).catch((e: Error) => res.destroy(e));
  }
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
  paced(res, n, gapMs, event, 'event: message_stop\ndata: {"type":"message_stop"}\n\n');
}

/** Writes eventAt(0) … eventAt(n - 1), gapMs apart, then `last` (if any) and ends. */
function paced(res: ServerResponse, n: number, gapMs: number, eventAt: (i: number) => string, last?: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // Headers and the first event leave in one write, as the API sends message_start at once:
  // the client's time-to-first-byte is then a pure request/response round trip.
  res.write(eventAt(0));
  let sent = 1;
  if (sent >= n) return void res.end(last);
  // Each event is timed on its own, so timer jitter shifts only when an event is sent,
  // never what the client computes from it.
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(eventAt(sent++));
    if (sent >= n) {
      clearInterval(timer);
      res.end(last);
    }
  }, gapMs);
  res.on('close', () => clearInterval(timer));
}

type Json = Record<string, unknown>;

/** The answer as event factories, so each "t" is taken just before its write. */
async function messages(req: IncomingMessage, res: ServerResponse, deltas: number, gapMs: number): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string; messages?: { role: string; content: unknown }[] };
  const lastUser = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  const afterTool = Array.isArray(lastUser?.content) && (lastUser.content as Json[]).some((b) => b.type === 'tool_result');
  const usage = { input_tokens: 1200, cache_creation_input_tokens: 0, cache_read_input_tokens: 9000, output_tokens: deltas * 20 };
  const data: Json[] = [
    { type: 'message_start', message: { id: `msg_bench_${randomBytes(8).toString('hex')}`, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } },
    { type: 'ping' },
  ];
  const block = (index: number, start: Json, pieces: Json[]): void => {
    data.push({ type: 'content_block_start', index, content_block: start }, ...pieces.map((delta) => ({ type: 'content_block_delta', index, delta })), { type: 'content_block_stop', index });
  };
  const texts = (k: number): Json[] => Array.from({ length: k }, () => ({ type: 'text_delta', text: TEXT }));
  if (afterTool) block(0, { type: 'text', text: '' }, texts(deltas));
  else {
    const half = Math.ceil(deltas / 2);
    block(0, { type: 'thinking', thinking: '', signature: '' }, [...Array.from({ length: half }, () => ({ type: 'thinking_delta', thinking: TEXT })), { type: 'signature_delta', signature: randomBytes(48).toString('base64') }]);
    block(1, { type: 'text', text: '' }, texts(deltas - half));
    const input = JSON.stringify({ command: `ls -la src/${randomBytes(3).toString('hex')}`, description: 'List the files' });
    const cut = input.indexOf(',') + 1;
    block(2, { type: 'tool_use', id: `toolu_${randomBytes(12).toString('hex')}`, name: 'Bash', input: {} },
      ['', input.slice(0, cut), input.slice(cut)].map((partial_json) => ({ type: 'input_json_delta', partial_json })));
  }
  data.push({ type: 'message_delta', delta: { stop_reason: afterTool ? 'end_turn' : 'tool_use', stop_sequence: null }, usage }, { type: 'message_stop' });
  paced(res, data.length, gapMs, (i) => `event: ${String(data[i].type)}\ndata: ${JSON.stringify({ ...data[i], t: process.hrtime.bigint().toString() })}\n\n`);
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
