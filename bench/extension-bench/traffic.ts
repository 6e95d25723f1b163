// The traffic phase of bench/extension-bench.ts: a fake api.anthropic.com on loopback and
// Claude-like requests through the extension's proxy.
import { createServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchVia, TunnelAgent } from '../../test/support/proxied-request';
import type { TestPki } from '../../test/support/test-pki';
import { historyRequestBody } from '../agent-traffic';
import { anthropicSse, FAKE_HOST, MODEL } from './seed';

const MB = 1024 * 1024;

/** HTTPS for api.anthropic.com on 127.0.0.1: discards the request, answers ~`responseBytes` of SSE (or the text the `x-bench-answer` header names). */
export async function startSink(pki: TestPki, pool: string, responseBytes: number): Promise<{ port: number; close(): Promise<void> }> {
  let n = 0;
  const server: HttpsServer = createServer(pki.serverCert([FAKE_HOST, 'localhost']), (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const i = n++;
      const offset = (i * 7919 * 37) % (pool.length - responseBytes);
      // A client that must know the answer (to send it back in its history) names it: "offset:length" of the pool.
      const named = /^(\d+):(\d+)$/.exec(String(req.headers['x-bench-answer'] ?? ''));
      const text = named ? pool.slice(Number(named[1]), Number(named[1]) + Number(named[2])) : pool.slice(offset, offset + Math.floor(responseBytes * 0.27));
      const body = anthropicSse(text, { input: 150_000, output: 4000 }, MODEL, `msg_sink_${i}`);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': `req_sink_${i}` });
      // `x-bench-stream-ms: N`: the answer streams over N ms, in 20 writes cut at event boundaries, as a model's does.
      const streamMs = Number(req.headers['x-bench-stream-ms'] ?? 0);
      if (!(streamMs > 0)) return void res.end(body);
      const events = body.split(/(?<=\n\n)/);
      const per = Math.ceil(events.length / 20);
      let k = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(events.slice(k * per, (k + 1) * per).join(''));
        if (++k * per >= events.length) return void res.end();
        setTimeout(next, streamMs / 20);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface PushResult { exchanges: number; requestBytes: number; responseBytes: number; ms: number; errors: number; firstError?: string; complete: boolean }

/**
 * `total` bytes of Claude-like traffic through the proxy: 10 sessions whose requests resend a growing
 * history (~700 KB) and whose answers stream ~300 KB of SSE, 4 requests at a time, until `total`
 * bytes were sent or `budgetMs` passed; at most `mbPerSecond` MB a second (requests and answers) when given.
 */
export async function pushTraffic(proxyUrl: string, caPem: string, pool: string, port: number, total: number, budgetMs: number, mbPerSecond?: number): Promise<PushResult> {
  const agent = new TunnelAgent({ proxyUrl, ca: caPem }, { keepAlive: true, maxSockets: 4 });
  // About 1 MB an exchange (680 KB request + 300 KB response on average); the loop stops on bytes.
  const sessions = 10;
  const perSession = Math.ceil(total / (0.98 * MB) / sessions);
  const result: PushResult = { exchanges: 0, requestBytes: 0, responseBytes: 0, ms: 0, errors: 0, complete: false };
  const t0 = performance.now();
  let next = 0;
  let dispatched = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (dispatched < total && performance.now() - t0 < budgetMs) {
      const i = next++;
      const body = historyRequestBody(pool, i, sessions, perSession, MODEL);
      dispatched += Buffer.byteLength(body) + 300 * 1024;
      if (mbPerSecond) {
        const due = (dispatched / MB / mbPerSecond) * 1000 - (performance.now() - t0);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      try {
        const res = await fetchVia(agent, FAKE_HOST, port, {
          method: 'POST', path: '/v1/messages?beta=true',
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'claude-cli/2.1.80 (external, cli)', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-bench' },
          body: [body],
        });
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body.toString().slice(0, 200)}`);
        result.exchanges++;
        result.requestBytes += Buffer.byteLength(body);
        result.responseBytes += res.body.length;
      } catch (e) {
        result.errors++;
        result.firstError ??= (e as Error).message;
        if (result.errors > 20) throw new Error(`too many failed requests, first: ${result.firstError}`);
      }
    }
  }));
  result.ms = performance.now() - t0;
  result.complete = dispatched >= total;
  agent.destroy();
  return result;
}
