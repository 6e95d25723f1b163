// Dials upstream servers: honours --map (dial another address, keep the TLS name), chains
// through an optional corporate proxy, always verifies the server certificate, and keeps
// connections alive in per-scheme agents.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { guardEarlyAnswer } from './early-answer-guard';
import type { HostMap } from './host-map';
import { plainRequest } from './plain-request';

export interface UpstreamOptions {
  hostMap: HostMap;
  /** PEM certificates trusted for upstream servers. */
  ca: string[];
  upstreamProxy?: URL;
  timeouts?: Partial<UpstreamTimeouts>;
}

/**
 * How long each upstream phase may stay silent (docs/decisions.md, decision 55). Without them an
 * upstream that accepts and never speaks holds a socket for ever.
 */
export interface UpstreamTimeouts {
  /** TCP connect (and CONNECT through an upstream proxy). */
  connectMs: number;
  /** The TLS handshake, once connected. */
  tlsMs: number;
  /** No byte either way while an exchange is under way: the wait for headers, a stalled body. */
  idleMs: number;
}

export const DEFAULT_UPSTREAM_TIMEOUTS: UpstreamTimeouts = {
  connectMs: 60_000,
  tlsMs: 60_000,
  // The LLM SDKs' own request timeout: a non-streaming answer may take this long to start.
  idleMs: 600_000,
};

/** Request options the agents pass through to `createConnection`: aborts a connection still being made. */
export interface AbortableRequestOptions {
  llmcAbort?: AbortSignal;
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
  readonly timeouts: UpstreamTimeouts;

  constructor(private readonly options: UpstreamOptions) {
    this.timeouts = { ...DEFAULT_UPSTREAM_TIMEOUTS, ...options.timeouts };
    // The agents' pools are keyed by the original host, so a mapped host reuses its connections.
    const connectTls = (host: string, port: number, cb: ConnectCallback, abort?: AbortSignal) => this.connectTls(host, port, cb, abort);
    const connectTcp = (host: string, port: number, cb: ConnectCallback, abort?: AbortSignal) => this.connectTcp(host, port, cb, abort);
    this.httpsAgent = new (class extends https.Agent {
      override createConnection(opts: https.RequestOptions & AbortableRequestOptions, cb: ConnectCallback): Duplex | undefined {
        connectTls(String(opts.host), Number(opts.port), cb, opts.llmcAbort);
        return undefined;
      }
    })({ keepAlive: true, scheduling: 'lifo' });
    this.httpAgent = new (class extends http.Agent {
      override createConnection(opts: http.RequestOptions & AbortableRequestOptions, cb: ConnectCallback): Duplex | undefined {
        connectTcp(String(opts.host), Number(opts.port), (err, socket) => {
          if (socket) guardEarlyAnswer(socket);
          cb(err, socket);
        }, opts.llmcAbort);
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

  /**
   * A raw TCP connection (through the upstream proxy when there is one). `abort` gives up on a
   * connection still being made: the client it was for has gone.
   */
  connectTcp(host: string, port: number, cb: ConnectCallback, abort?: AbortSignal): void {
    const target = this.options.hostMap.lookup(host, port) ?? { host, port };
    const proxy = this.options.upstreamProxy;
    const phase = new Phase(cb, abort, this.timeouts.connectMs, `${this.describeTarget(host, port)} did not accept a connection`);
    if (proxy) {
      connectThroughProxy(proxy, target.host, target.port, phase);
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port });
    phase.holds(socket);
    socket.setNoDelay(true);
    socket.once('connect', () => phase.done(socket));
    socket.once('error', (e) => phase.fail(e));
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

  connectTls(host: string, port: number, cb: ConnectCallback, abort?: AbortSignal): void {
    const secureContext = this.secureContext();
    if (secureContext instanceof Error) return cb(secureContext);
    this.connectTcp(host, port, (err, raw) => {
      if (err || !raw) return cb(err ?? new Error('no socket'));
      const phase = new Phase(cb, abort, this.timeouts.tlsMs, `${this.describeTarget(host, port)} did not complete the TLS handshake`);
      phase.holds(raw);
      const socket = tls.connect({
        socket: raw,
        // SNI must be a name, never an address (RFC 6066 §3).
        servername: net.isIP(host) ? undefined : host,
        secureContext,
        ALPNProtocols: ['http/1.1'],
        // Verify against the name the client asked for, not the mapped address we dialled.
        checkServerIdentity: (_dialled, cert) => tls.checkServerIdentity(host, cert),
      });
      phase.holds(socket);
      socket.once('error', (e) => phase.fail(describeTlsError(e, host)));
      socket.once('secureConnect', () => {
        guardEarlyAnswer(socket);
        phase.done(socket);
      });
    }, abort);
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
function connectThroughProxy(proxy: URL, host: string, port: number, phase: Phase): void {
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
  phase.holds(req);
  req.once('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      return phase.fail(new Error(`upstream proxy ${proxy.host} refused CONNECT ${host}:${port}: ${res.statusCode} ${res.statusMessage}`));
    }
    if (head.length > 0) socket.unshift(head);
    socket.setNoDelay(true);
    phase.done(socket);
  });
  req.once('error', (e) => phase.fail(new Error(`upstream proxy ${proxy.host} unreachable: ${e.message}`)));
  req.end();
}

/**
 * One step of making a connection: it ends once, by success, failure, its timeout or the client's
 * abort. The last two destroy what the step holds, so nothing outlives a client that left.
 */
class Phase {
  private settled = false;
  private readonly held: { destroy(error?: Error): unknown }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.fail(new Error('the client went away'));

  constructor(private readonly cb: ConnectCallback, private readonly abort: AbortSignal | undefined, timeoutMs: number, silence: string) {
    this.timer = setTimeout(() => this.fail(new UpstreamTimeoutError(`${silence} within ${formatSeconds(timeoutMs)}`)), timeoutMs);
    abort?.addEventListener('abort', this.onAbort, { once: true });
    if (abort?.aborted) queueMicrotask(this.onAbort);
  }

  holds(thing: { destroy(error?: Error): unknown }): void {
    this.held.push(thing);
  }

  done(socket: Duplex): void {
    if (!this.finish()) {
      socket.destroy();
      return;
    }
    this.cb(null, socket);
  }

  fail(error: Error): void {
    if (!this.finish()) return;
    for (const thing of this.held) thing.destroy();
    this.cb(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.abort?.removeEventListener('abort', this.onAbort);
    return true;
  }
}

/** An upstream that stayed silent past its phase's timeout: the client gets 504, not 502. */
export class UpstreamTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
