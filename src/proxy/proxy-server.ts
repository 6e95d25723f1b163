// The proxy's front door on 127.0.0.1: CONNECT (intercepted or tunnelled), absolute-form plain
// HTTP, and plain WebSocket upgrades. Intercepted TLS sockets are fed into an inner HTTP server
// that never listens, so HTTP parsing is Node's own for both kinds.
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { loadOrCreateCa } from './ca';
import { LeafCertificates } from './certificates';
import { openBlindTunnel, rejectConnect } from './blind-tunnel';
import { HostMap } from './host-map';
import { forwardHttp, sendPlainError } from './http-forwarder';
import { parseAbsoluteForm, parseAuthority } from './http-headers';
import { DEFAULT_INTERCEPT_HOSTS, InterceptPolicy } from './intercept-policy';
import type { ProxyOptions } from './options';
import { checkProxyAuth, sendProxyAuthRequired } from './proxy-auth';
import { type ClientConnection, ProxyContext } from './proxy-context';
import { answerClientError } from './client-error';
import { MAX_HEADER_BYTES } from './http-headers';
import { proxyEnvironment } from './shell-environment';
import { now, Tap } from './tap';
import { interceptTls } from './tls-interceptor';
import { readPemFile, systemRootCertificates } from './trust-store';
import { UpstreamConnector } from './upstream-connector';
import { relayWebSocket } from './websocket-relay';

export interface RunningProxy {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly ca: { certPath: string; keyPath: string; bundlePath: string; certPem: string };
  readonly tap: Tap;
  readonly interceptedHosts: readonly string[];
  /** The variables a shell needs; with a label, the proxy URL carries it (and the token) as credentials. */
  environment(label?: string): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the proxy. With `gate`, everything is prepared at once (the CA, certificates, servers) but
 * the port is opened only once `gate` resolves (the caller's store is open), and not if it rejects.
 */
export async function startProxy(options: ProxyOptions, gate?: Promise<unknown>): Promise<RunningProxy> {
  const log = options.log ?? (() => undefined);
  const policy = new InterceptPolicy(options.intercept ?? DEFAULT_INTERCEPT_HOSTS);
  const hostMap = new HostMap(options.map ?? []);
  const upstreamProxy = options.upstreamProxy ? parseUpstreamProxy(options.upstreamProxy) : undefined;
  const trusted = [...systemRootCertificates(), ...(options.upstreamCaFiles ?? []).flatMap(readPemFile)];
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const ca = await loadOrCreateCa(options.dataDir, policy.patterns, (m) => log('info', m));
  const leaves = await LeafCertificates.create(ca);
  // Issue the exact default hosts' certificates off the event loop, so the first agent request finds them ready.
  leaves.prewarm().catch((e: Error) => log('warn', `certificate prewarm failed: ${e.message}`));
  const tap = options.tap ?? new Tap();
  const upstream = new UpstreamConnector({ hostMap, ca: trusted, upstreamProxy, timeouts: options.upstreamTimeouts });
  const ctx = new ProxyContext(tap, policy, hostMap, upstream, log, options.onlyMapped ?? false, options.firstId);

  // Decrypted connections: Node's HTTP parser on the TLS socket, no listening port of its own.
  // Header limits are the same both ways (docs/decisions.md, decision 40): 256 KiB a block, no count limit.
  const inner = http.createServer({ requestTimeout: 0, headersTimeout: 120_000, keepAliveTimeout: 120_000, maxHeaderSize: MAX_HEADER_BYTES });
  inner.maxHeadersCount = 0;
  inner.on('request', (req, res) => {
    const conn = ctx.connections.get(req.socket);
    if (!conn) return sendPlainError(res, 500, 'llm-capture: lost track of this connection');
    forwardHttp(ctx, conn, req, res);
  });
  inner.on('upgrade', (req, socket, head) => {
    socket.on('error', (e) => log('debug', `client socket: ${e.message}`));
    upgrade(ctx, ctx.connections.get(req.socket as Socket), req, socket, head);
  });
  inner.on('clientError', (err, socket) => answerClientError(ctx, err, socket, ctx.connections.get(socket as Socket)?.id));

  const outer = http.createServer({ requestTimeout: 0, headersTimeout: 120_000, keepAliveTimeout: 120_000, maxHeaderSize: MAX_HEADER_BYTES });
  outer.maxHeadersCount = 0;
  outer.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    ctx.track(socket);
  });
  outer.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    // Node hands over CONNECT and upgrade sockets with no 'error' listener of its own.
    socket.on('error', (e) => log('debug', `client socket: ${e.message}`));
    const target = parseAuthority(req.url ?? '');
    if (!target) return rejectConnect(socket, 400, `llm-capture: bad CONNECT target "${req.url}"`);
    const auth = checkProxyAuth(req.headers, options.auth);
    if (!auth.ok) return sendProxyAuthRequired(socket, auth.reason);
    const intercept = policy.shouldIntercept(target.host);
    const conn: ClientConnection = { id: ctx.newConnectionId(), scheme: 'https', host: target.host, port: target.port, label: auth.label, captured: intercept };
    ctx.emit({ type: 'connection-opened', connectionId: conn.id, time: now(), clientAddress: socket.remoteAddress ?? '',
      clientPort: socket.remotePort ?? 0, ...(auth.label ? { label: auth.label } : {}), targetHost: target.host, targetPort: target.port,
      mode: intercept ? 'intercept' : 'tunnel' });
    if (!intercept) return openBlindTunnel(ctx, conn.id, socket, head, target.host, target.port);

    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    // The TLS layer takes over the socket's handle, so neither 'data' nor write() on this socket
    // sees the traffic; the handle's counters do. Count from after the CONNECT, like a tunnel.
    const readBefore = socket.bytesRead - head.length;
    const writtenBefore = socket.bytesWritten;
    socket.once('close', () => ctx.emit({ type: 'connection-closed', connectionId: conn.id, time: now(),
      bytesFromClient: socket.bytesRead - readBefore, bytesToClient: socket.bytesWritten - writtenBefore }));
    interceptTls(ctx, conn, socket, leaves, (tlsSocket) => {
      ctx.connections.set(tlsSocket, conn);
      inner.emit('connection', tlsSocket);
    });
  });
  outer.on('request', (req, res) => handlePlainRequest(ctx, options, req, res, ca.certPem));
  outer.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', (e) => log('debug', `client socket: ${e.message}`));
    const target = parseAbsoluteForm(req.url ?? '');
    const auth = checkProxyAuth(req.headers, options.auth);
    if (!target) return void socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    if (!auth.ok) return sendProxyAuthRequired(socket, auth.reason);
    req.url = target.path;
    upgrade(ctx, plainConnection(ctx, socket, target.host, target.port, auth.label), req, socket, head);
  });
  outer.on('clientError', (err, socket) => answerClientError(ctx, err, socket));

  await gate;
  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(options.port ?? 0, '127.0.0.1', () => {
      outer.removeListener('error', reject);
      resolve();
    });
  });
  outer.on('error', (e) => log('error', `proxy server: ${e.message}`));
  const port = (outer.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  log('info', `listening on 127.0.0.1:${port}`);
  // Parsing the trusted roots waits until Start has answered; the first upstream connection finds them ready.
  setImmediate(() => {
    const problem = upstream.prewarm();
    if (problem) log('error', `upstream TLS: ${problem.message}`);
  });

  return {
    port,
    url,
    ca: { certPath: ca.files.certPath, keyPath: ca.files.keyPath, bundlePath: ca.files.bundlePath, certPem: ca.certPem },
    tap,
    interceptedHosts: policy.patterns,
    environment(label?: string) {
      return proxyEnvironment(port, ca.files, options.auth?.token, label);
    },
    async close() {
      await new Promise<void>((resolve) => {
        outer.close(() => resolve());
        for (const s of ctx.sockets) s.destroy();
        outer.closeAllConnections();
      });
      upstream.destroy();
      // Sockets closing above emit their last events (a WebSocket's close, an exchange's end);
      // hand them to the listeners before saying we are closed.
      await new Promise((resolve) => setImmediate(resolve));
      await tap.drained();
    },
  };
}

function upgrade(ctx: ProxyContext, conn: ClientConnection | undefined, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  if (!conn || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  relayWebSocket(ctx, conn, req, socket, head);
}

function handlePlainRequest(ctx: ProxyContext, options: ProxyOptions, req: http.IncomingMessage, res: http.ServerResponse, caPem: string): void {
  const target = parseAbsoluteForm(req.url ?? '');
  if (!target) {
    // A request to the proxy itself: offer the CA for download, and say what this port is.
    if (req.url === '/ca.pem') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(caPem) });
      return void res.end(caPem);
    }
    return sendPlainError(res, 400, 'This is the LLM Capture proxy. Use it as HTTPS_PROXY; its CA is at /ca.pem.');
  }
  const auth = checkProxyAuth(req.headers, options.auth);
  if (!auth.ok) return sendProxyAuthRequired(res, auth.reason);
  if (target.scheme !== 'http') return sendPlainError(res, 400, 'llm-capture: send https:// requests with CONNECT');
  forwardHttp(ctx, plainConnection(ctx, req.socket, target.host, target.port, auth.label), req, res);
}

/** Plain HTTP connections are recorded per client socket and target. */
function plainConnection(ctx: ProxyContext, socket: Socket, host: string, port: number, label: string | undefined): ClientConnection {
  const known = ctx.connections.get(socket);
  if (known && known.host === host && known.port === port) return known;
  const conn: ClientConnection = { id: ctx.newConnectionId(), scheme: 'http', host, port, label, captured: ctx.policy.shouldIntercept(host) };
  ctx.connections.set(socket, conn);
  ctx.emit({ type: 'connection-opened', connectionId: conn.id, time: now(), clientAddress: socket.remoteAddress ?? '',
    clientPort: socket.remotePort ?? 0, ...(label ? { label } : {}), targetHost: host, targetPort: port, mode: 'plain-http' });
  return conn;
}

function parseUpstreamProxy(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`upstream proxy "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:') throw new Error(`upstream proxy "${text}" must be an http:// URL`);
  return url;
}
