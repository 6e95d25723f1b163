// The client side: what an agent does through HTTPS_PROXY, with Node's own http client on top.
// A connection is a CONNECT tunnel (for a proxy) or a plain TCP connection (direct), then TLS
// with the proxy's CA (or the fake's) and a server name; HTTP/1.1 only, so every proxy speaks
// the same protocol to us. Both paths go through the same Agent so only the proxy differs.
import { Agent, request, type ClientRequestArgs, type OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface Route {
  /** The proxy's port on 127.0.0.1; undefined for a direct connection. */
  proxyPort?: number;
  /** The CONNECT target, or the address dialled directly. */
  connectHost: string;
  connectPort: number;
  /** TLS server name and Host header: the name the client believes it talks to. */
  servername: string;
  /** The CA the client trusts for this connection (the proxy's, or the fake's when direct). */
  ca: Buffer;
}

/** process.hrtime.bigint() marks, in nanoseconds on the machine-wide monotonic clock. */
export interface OpenTimes {
  start: bigint;
  /** CONNECT written (direct: the TCP connect began). */
  connectSent: bigint;
  secure: bigint;
}

const hr = (): bigint => process.hrtime.bigint();

export function openTls(route: Route, timeoutMs = 10_000): Promise<{ socket: TLSSocket; times: OpenTimes }> {
  return new Promise((resolve, reject) => {
    const start = hr();
    let connectSent = start;
    let current: Socket | undefined;
    const timer = setTimeout(() => fail(new Error(`connection to ${route.servername} timed out`)), timeoutMs);
    function fail(e: Error): void {
      clearTimeout(timer);
      current?.destroy();
      reject(e);
    }
    function startTls(raw?: Socket): void {
      const tls = tlsConnect({
        ...(raw ? { socket: raw } : { host: '127.0.0.1', port: route.connectPort }),
        servername: route.servername, ca: route.ca, ALPNProtocols: ['http/1.1'],
      });
      current = tls;
      tls.once('error', fail);
      tls.once('secureConnect', () => {
        const secure = hr();
        clearTimeout(timer);
        tls.off('error', fail);
        tls.setNoDelay(true);
        resolve({ socket: tls, times: { start, connectSent, secure } });
      });
    }
    if (route.proxyPort === undefined) return startTls();
    const raw = netConnect(route.proxyPort, '127.0.0.1');
    current = raw;
    raw.setNoDelay(true);
    raw.once('error', fail);
    raw.once('connect', () => {
      connectSent = hr();
      const authority = `${route.connectHost}:${route.connectPort}`;
      raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return head.length > 16_384 ? fail(new Error('CONNECT reply too long')) : undefined;
      raw.off('data', onData);
      raw.pause();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200') return fail(new Error(`CONNECT answered: ${head.subarray(0, end).toString('latin1').split('\r\n')[0]}`));
      if (head.length > end + 4) raw.unshift(head.subarray(end + 4));
      raw.off('error', fail);
      startTls(raw);
    };
    raw.on('data', onData);
  });
}

/** A keep-alive agent with one connection, opened by openTls; remembers when it was opened. */
export class TunnelAgent extends Agent {
  lastOpen: OpenTimes | undefined;

  constructor(private readonly route: Route) {
    super({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 30_000 });
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    openTls(this.route).then(({ socket, times }) => {
      this.lastOpen = times;
      callback?.(null, socket);
    }, (e: Error) => callback?.(e, undefined as unknown as Duplex));
    return undefined;
  }
}

export interface Exchange {
  status: number;
  /** req.end() called. */
  sent: bigint;
  firstByte: bigint;
  end: bigint;
  bytes: number;
}

/** What a request other than a bare GET sends (bench/otlp-bench.ts POSTs Messages API calls). */
export interface Outgoing {
  method: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
}

/** A GET (or `outgoing`) through the agent; onData sees every body chunk with the time it arrived. */
export function get(agent: TunnelAgent, route: Route, path: string, onData?: (chunk: Buffer, at: bigint) => void, timeoutMs = 60_000, outgoing: Outgoing = { method: 'GET' }): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const headers = { host: route.servername, accept: '*/*', ...outgoing.headers };
    const req = request({ agent, host: route.servername, port: route.connectPort, path, method: outgoing.method, headers });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)), timeoutMs);
    let firstByte = 0n;
    let bytes = 0;
    req.once('error', (e) => { clearTimeout(timer); reject(e); });
    req.once('response', (res) => {
      res.on('data', (chunk: Buffer) => {
        const at = hr();
        if (firstByte === 0n) firstByte = at;
        bytes += chunk.length;
        onData?.(chunk, at);
      });
      res.once('error', (e) => { clearTimeout(timer); reject(e); });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, sent, firstByte, end: hr(), bytes });
      });
    });
    const sent = hr();
    req.end(outgoing.body);
  });
}

export const ms = (ns: bigint): number => Number(ns) / 1e6;
