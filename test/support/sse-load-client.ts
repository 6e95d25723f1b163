// The client side of a load run against test/support/sse-load-upstream.ts: COUNT streams started
// at once, each a POST /v1/messages like Claude Code's, each on a connection of its own.
//
// One connection per stream is not a choice but HTTP/1.1: a streaming answer holds its connection
// until it ends, so 1,000 concurrent streams are 1,000 connections (1,000 CONNECT tunnels through a
// proxy) whatever the agent pools. The agent here therefore keeps nothing alive and has no socket
// cap, and how a connection is opened (a CONNECT tunnel, or TLS straight to the fake) is the caller's.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { LOAD_BATCH_HEADER, LOAD_STREAM_HEADER } from './sse-load-upstream';

/** Opens one TLS connection that speaks to the upstream (through a proxy or not). */
export type OpenConnection = () => Promise<Duplex>;

export interface StreamResult {
  id: string;
  status: number;
  /** The body as received: its length and sha256. */
  bytes: number;
  sha256: string;
  /** The body ended with the fake's `: sha256 HEX BYTES` comment and every byte before it matched it. */
  whole: boolean;
  /** One-way time of each content_block_delta, fake's write → this client's receipt, in ms. */
  delaysMs: number[];
}

export interface LoadRunOptions {
  count: number;
  /** The name the client believes it talks to (Host header). */
  host: string;
  /** Gives each stream of this run a unique id and tells the fake how many to wait for. */
  batch: string;
  /** Only catches a hang: a stream not over after this long fails the run. */
  timeoutMs: number;
}

/** An agent with no pooling and no limit: each request opens its own connection through `open`. */
export class StreamAgent extends Agent {
  constructor(private readonly open: OpenConnection) {
    super({ keepAlive: false, maxSockets: Infinity, maxTotalSockets: Infinity });
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    this.open().then((s) => callback?.(null, s), (e: Error) => callback?.(e, undefined as unknown as Duplex));
    return undefined;
  }
}

/** Starts every stream at once; resolves when all have ended, rejects on the first failure. */
export async function runLoad(open: OpenConnection, options: LoadRunOptions): Promise<StreamResult[]> {
  const agent = new StreamAgent(open);
  try {
    return await Promise.all(Array.from({ length: options.count }, (_, i) => oneStream(agent, options, `${options.batch}-${i}`)));
  } finally {
    agent.destroy();
  }
}

const TRAILER = /: sha256 ([0-9a-f]{64}) (\d+)\n\n$/;
const STAMP = /"t":"(\d+)"/;

function oneStream(agent: Agent, options: LoadRunOptions, id: string): Promise<StreamResult> {
  // A unique prompt, so that no two stored request bodies are alike either.
  const body = Buffer.from(JSON.stringify({
    model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true,
    messages: [{ role: 'user', content: `load stream ${id}: ${randomBytes(16).toString('hex')}` }],
    metadata: { user_id: `user_load_account__session_${id}` },
  }));
  return new Promise((resolve, reject) => {
    const req = request({
      agent, host: options.host, port: 443, method: 'POST', path: '/v1/messages',
      headers: {
        host: options.host, 'content-type': 'application/json', 'content-length': String(body.length), 'anthropic-version': '2023-06-01',
        [LOAD_STREAM_HEADER]: id, [LOAD_BATCH_HEADER]: `${options.batch}/${options.count}`,
      },
    });
    const timer = setTimeout(() => req.destroy(new Error(`stream ${id} not over after ${options.timeoutMs} ms`)), options.timeoutMs);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      reject(new Error(`stream ${id}: ${e.message}`));
    };
    req.once('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      const delaysMs: number[] = [];
      let pending = '';
      res.on('data', (chunk: Buffer) => {
        const at = process.hrtime.bigint();
        chunks.push(chunk);
        // Events are ASCII; latin1 keeps one character per byte across chunk boundaries.
        pending += chunk.toString('latin1');
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const stamp = STAMP.exec(pending.slice(0, end));
          if (stamp) delaysMs.push(Number(at - BigInt(stamp[1])) / 1e6);
          pending = pending.slice(end + 2);
        }
      });
      res.once('error', fail);
      res.once('aborted', () => fail(new Error('response aborted')));
      res.once('end', () => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        resolve({ id, status: res.statusCode ?? 0, bytes: all.length, sha256: sha256(all), whole: isWhole(all), delaysMs });
      });
    });
    req.end(body);
  });
}

/** True when the body is the fake's stream followed by its own correct digest. */
function isWhole(body: Buffer): boolean {
  const tail = body.subarray(Math.max(0, body.length - 100)).toString('latin1');
  const m = TRAILER.exec(tail);
  if (!m) return false;
  const before = body.length - Buffer.byteLength(m[0], 'latin1');
  return Number(m[2]) === before && sha256(body.subarray(0, before)) === m[1];
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
