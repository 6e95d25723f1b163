// A fake Anthropic API for load runs: every POST gets an SSE stream of its own (message_start,
// content_block_start, N content_block_delta a few ms apart, content_block_stop, message_delta,
// message_stop), whose text names the stream so no two bodies are alike.
//
// Streams come in batches (`x-load-batch: ID/SIZE`): each stream sends its head and first two
// events at once, then waits until all SIZE streams of its batch have arrived before any delta.
// Without that, a stream of ~100 ms would be over before the 1,000th connection had finished its
// handshakes, and "1,000 concurrent streams" would really be a few dozen at a time.
//
// Every delta carries "t": process.hrtime.bigint() taken just before its write. hrtime is
// CLOCK_MONOTONIC, shared by every process of the machine, so a client in another process can
// subtract it from its own receipt time (as bench/fake-upstream.ts does).
//
// After message_stop an SSE comment `: sha256 HEX BYTES` states the digest and length of every byte
// before it, so a client in another process can prove it got the stream whole; parsers skip
// comments. In-process callers can also read `streams`, what was sent per stream id.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { sseEvent } from './sse';

export const LOAD_STREAM_HEADER = 'x-load-stream';
export const LOAD_BATCH_HEADER = 'x-load-batch';

export interface LoadUpstreamOptions {
  tls: { key: string; cert: string };
  /** content_block_delta events per stream (default 20). */
  deltas?: number;
  /** Milliseconds between two deltas of a stream (default 5); each stream starts at a random offset within the first gap. */
  gapMs?: number;
}

export interface SentStream {
  /** Of the whole body, the trailing digest comment included. */
  sha256: string;
  bytes: number;
}

export interface LoadUpstream {
  port: number;
  /** What each finished stream was sent, by stream id. */
  streams: Map<string, SentStream>;
  /** Requests received so far (all batches). */
  arrived(): number;
  close(): Promise<void>;
}

interface Batch {
  size: number;
  arrived: number;
  release: Promise<void>;
  open: () => void;
}

export async function startLoadUpstream(options: LoadUpstreamOptions): Promise<LoadUpstream> {
  const deltas = options.deltas ?? 20;
  const gapMs = options.gapMs ?? 5;
  const streams = new Map<string, SentStream>();
  const batches = new Map<string, Batch>();
  let arrived = 0;
  const batchOf = (header: string): Batch | undefined => {
    const m = /^([\w-]+)\/(\d+)$/.exec(header);
    if (!m) return undefined;
    let b = batches.get(m[1]);
    if (!b) {
      let open = (): void => undefined;
      const release = new Promise<void>((resolve) => (open = resolve));
      b = { size: Number(m[2]), arrived: 0, release, open };
      batches.set(m[1], b);
    }
    return b;
  };
  // Generous keep-alive and no request timeout: a held stream may wait seconds for its batch.
  const server: Server = createServer({ ...options.tls, keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    res.sendDate = false;
    arrived++;
    const id = String(req.headers[LOAD_STREAM_HEADER] ?? arrived);
    const batch = batchOf(String(req.headers[LOAD_BATCH_HEADER] ?? ''));
    if (batch && ++batch.arrived >= batch.size) batch.open();
    stream(req, res, id, batch?.release ?? Promise.resolve(), deltas, gapMs)
      .then((sent) => { if (sent) streams.set(id, sent); })
      .catch((e: unknown) => res.destroy(e as Error));
  });
  const sockets = new Set<Socket>();
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // The default backlog (511) is below a burst of 1,000 connects; a full queue only delays, but why wait.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    streams,
    arrived: () => arrived,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes one stream; resolves with what was sent, or undefined if the client left first. */
async function stream(req: IncomingMessage, res: ServerResponse, id: string, release: Promise<void>, deltas: number, gapMs: number): Promise<SentStream | undefined> {
  // The request body is drained, not checked: the load client sends valid JSON.
  for await (const _ of req) void _;
  const hash = createHash('sha256');
  let bytes = 0;
  const write = (text: string): void => {
    const chunk = Buffer.from(text);
    hash.update(chunk);
    bytes += chunk.length;
    res.write(chunk);
  };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_load_${id}` });
  // The head leaves with message_start, as the API sends it.
  write(sseEvent('message_start', { type: 'message_start', message: {
    id: `msg_load_${id}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 1 } } }));
  write(sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
  await release;
  await sleep(Math.random() * gapMs);
  for (let i = 0; i < deltas; i++) {
    if (res.destroyed) return undefined;
    if (i > 0) await sleep(gapMs);
    const text = `word ${i} of stream ${id}, padded like a real delta: the quick brown fox jumps over the lazy dog. `;
    // "t" last, taken at the last moment before the write.
    write(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(text)}},"i":${i},"t":"${process.hrtime.bigint()}"}\n\n`);
  }
  if (res.destroyed) return undefined;
  write(sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }));
  write(sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: deltas } }));
  write(sseEvent('message_stop', { type: 'message_stop' }));
  const trailer = Buffer.from(`: sha256 ${hash.copy().digest('hex')} ${bytes}\n\n`);
  hash.update(trailer);
  res.end(trailer);
  return { sha256: hash.digest('hex'), bytes: bytes + trailer.length };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
