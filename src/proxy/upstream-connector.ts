// Dials upstream servers: honours --map (dial another address, keep the TLS name), chains
// through an optional corporate proxy, always verifies the server certificate, and keeps
// connections alive in per-scheme agents.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HostMap } from './host-map';
import { plainRequest } from './plain-request';

export interface UpstreamOptions {
  hostMap: HostMap;
  /** PEM certificates trusted for upstream servers. */
  ca: string[];
  upstreamProxy?: URL;
}

type ConnectCallback = (err: Error | null, socket?: Duplex) => void;

export class UpstreamConnector {
  readonly httpsAgent: https.Agent;
  readonly httpAgent: http.Agent;
  /**
   * Built once: passing `ca` to tls.connect makes Node parse every root again for each new
   * upstream connection (34–94 ms with the system roots, measured in bench/). Built after the
   * proxy listens (`prewarm`), not before: on a fresh thread it took ~80 ms of Start Capture.
   */
  private context?: tls.SecureContext;

  constructor(private readonly options: UpstreamOptions) {
    // The agents' pools are keyed by the original host, so a mapped host reuses its connections.
    const connectTls = (host: string, port: number, cb: ConnectCallback) => this.connectTls(host, port, cb);
    const connectTcp = (host: string, port: number, cb: ConnectCallback) => this.connectTcp(host, port, cb);
    this.httpsAgent = new (class extends https.Agent {
      override createConnection(opts: https.RequestOptions, cb: ConnectCallback): Duplex | undefined {
        connectTls(String(opts.host), Number(opts.port), cb);
        return undefined;
      }
    })({ keepAlive: true, scheduling: 'lifo' });
    this.httpAgent = new (class extends http.Agent {
      override createConnection(opts: http.RequestOptions, cb: ConnectCallback): Duplex | undefined {
        connectTcp(String(opts.host), Number(opts.port), cb);
        return undefined;
      }
    })({ keepAlive: true, scheduling: 'lifo' });
  }

  /** The address actually dialled for a host (for messages). */
  describeTarget(host: string, port: number): string {
    const mapped = this.options.hostMap.lookup(host, port);
    const via = this.options.upstreamProxy ? ` via ${this.options.upstreamProxy.host}` : '';
    return mapped ? `${host}:${port} (mapped to ${mapped.host}:${mapped.port})${via}` : `${host}:${port}${via}`;
  }

  /** A raw TCP connection for a blind tunnel (through the upstream proxy when there is one). */
  connectTcp(host: string, port: number, cb: ConnectCallback): void {
    const target = this.options.hostMap.lookup(host, port) ?? { host, port };
    const proxy = this.options.upstreamProxy;
    if (proxy) {
      connectThroughProxy(proxy, target.host, target.port, cb);
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.removeListener('error', cb);
      cb(null, socket);
    });
    socket.once('error', cb);
  }

  /** Builds the context for upstream TLS now, if no connection has yet; returns why it could not. */
  prewarm(): Error | undefined {
    const context = this.secureContext();
    return context instanceof Error ? context : undefined;
  }

  private secureContext(): tls.SecureContext | Error {
    try {
      return (this.context ??= tls.createSecureContext({ ca: this.options.ca }));
    } catch (e) {
      return new Error(`the trusted CA certificates could not be loaded: ${(e as Error).message}`);
    }
  }

  connectTls(host: string, port: number, cb: ConnectCallback): void {
    const secureContext = this.secureContext();
    if (secureContext instanceof Error) return cb(secureContext);
    this.connectTcp(host, port, (err, raw) => {
      if (err || !raw) return cb(err ?? new Error('no socket'));
      const socket = tls.connect({
        socket: raw,
        // SNI must be a name, never an address (RFC 6066 §3).
        servername: net.isIP(host) ? undefined : host,
        secureContext,
        ALPNProtocols: ['http/1.1'],
        // Verify against the name the client asked for, not the mapped address we dialled.
        checkServerIdentity: (_dialled, cert) => tls.checkServerIdentity(host, cert),
      });
      const onError = (e: Error) => cb(describeTlsError(e, host));
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        socket.removeListener('error', onError);
        cb(null, socket);
      });
    });
  }

  destroy(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}

function describeTlsError(e: Error & { code?: string }, host: string): Error {
  const certCodes = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];
  if (e.code && certCodes.includes(e.code)) {
    const wrapped = new Error(`upstream certificate for ${host} was rejected: ${e.message} (add its CA with --upstream-ca)`);
    (wrapped as Error & { code?: string }).code = e.code;
    return wrapped;
  }
  return e;
}

/** Opens a CONNECT tunnel through an HTTP proxy (RFC 9110 §9.3.6). */
function connectThroughProxy(proxy: URL, host: string, port: number, cb: ConnectCallback): void {
  const headers: Record<string, string> = { host: `${host}:${port}` };
  if (proxy.username) {
    const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(cred).toString('base64')}`;
  }
  const req = plainRequest('http', {
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: Number(proxy.port || 80),
    method: 'CONNECT',
    path: `${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    headers,
    agent: false,
  });
  req.once('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      return cb(new Error(`upstream proxy ${proxy.host} refused CONNECT ${host}:${port}: ${res.statusCode} ${res.statusMessage}`));
    }
    if (head.length > 0) socket.unshift(head);
    socket.setNoDelay(true);
    cb(null, socket);
  });
  req.once('error', (e) => cb(new Error(`upstream proxy ${proxy.host} unreachable: ${e.message}`)));
  req.end();
}
