// Clients that reach an HTTPS origin through an HTTP CONNECT proxy, the way agents do:
// CONNECT host:port, then TLS over the tunnel, then HTTP/1.1. No proxy library, so the
// test sees exactly what the proxy answers. Node's own stack, and Debian's curl beside it.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface ProxyTarget {
  /** http://[label:token@]127.0.0.1:port */
  proxyUrl: string;
  /** PEM the client trusts (our CA); omit to trust nothing extra. */
  ca?: string;
}

export class TunnelError extends Error {
  constructor(readonly statusCode: number, readonly body: string) {
    super(`CONNECT refused with ${statusCode}: ${body}`);
  }
}

/** Opens a CONNECT tunnel; rejects with TunnelError when the proxy answers other than 2xx. */
export function openTunnel(proxyUrl: string, host: string, port: number): Promise<Socket> {
  const proxy = new URL(proxyUrl);
  const headers: OutgoingHttpHeaders = { host: `${host}:${port}` };
  if (proxy.username) {
    const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(creds).toString('base64')}`;
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: Number(proxy.port), method: 'CONNECT', path: `${host}:${port}`, headers, agent: false });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
        return;
      }
      // A refusal may carry a body; read what is already there, then give up.
      let body = head.toString('utf8');
      socket.on('data', (d: Buffer) => (body += d.toString('utf8')));
      const done = (): void => reject(new TunnelError(res.statusCode ?? 0, body));
      socket.once('end', done);
      socket.once('close', done);
      socket.once('error', done);
      setImmediate(() => socket.end());
    });
    req.on('error', reject);
    req.end();
  });
}

/** TLS to `host` over a fresh CONNECT tunnel; `ca` decides whose certificate passes. */
export async function tlsThroughProxy(target: ProxyTarget, host: string, port = 443, alpn = ['http/1.1']): Promise<TLSSocket> {
  const raw = await openTunnel(target.proxyUrl, host, port);
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket: raw, servername: host, ca: target.ca, ALPNProtocols: alpn });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', (e) => {
      raw.destroy();
      reject(e);
    });
  });
}

/** An https.Agent whose sockets are CONNECT tunnels through the proxy (usable by `ws` too). */
export class TunnelAgent extends Agent {
  constructor(private readonly target: ProxyTarget, options: AgentOptions = {}) {
    super(options);
  }

  // Node's agent accepts a socket handed to the callback later, so the CONNECT can be async.
  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const cb = callback ?? (() => undefined);
    tlsThroughProxy(this.target, options.host ?? 'localhost', Number(options.port ?? 443)).then((s) => cb(null, s), (e: Error) => cb(e, null as never));
    return undefined;
  }
}

/** Straight to a fake on 127.0.0.1:port, presenting the request's host as the TLS name. */
export class DirectAgent extends Agent {
  constructor(private readonly port: number, private readonly ca: string) {
    super({ keepAlive: false });
  }

  override createConnection(options: RequestOptions): Duplex {
    return tlsConnect({ host: '127.0.0.1', port: this.port, servername: options.host ?? 'localhost', ca: this.ca, ALPNProtocols: ['http/1.1'] });
  }
}

export interface CapturedResponse {
  statusCode: number;
  rawHeaders: string[];
  body: Buffer;
  /** True when the client reused a kept-alive connection for this request. */
  reusedSocket: boolean;
}

export interface RequestSpec {
  method?: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  /** Pieces written one by one (chunked unless a content-length header is given). */
  body?: (string | Buffer)[];
}

/** One HTTPS request through an agent (a TunnelAgent, or a plain Agent for direct requests). */
export function fetchVia(agent: Agent, host: string, port: number, spec: RequestSpec): Promise<CapturedResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port, agent, method: spec.method ?? 'GET', path: spec.path, headers: spec.headers });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    for (const piece of spec.body ?? []) req.write(piece);
    req.end();
  });
}

/** Hop-by-hop headers a proxy may legitimately change; everything else must pass as it came. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection']);

/** rawHeaders as [name, value] pairs without hop-by-hop ones, names in their original case. */
export function endToEnd(rawHeaders: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) out.push([rawHeaders[i], rawHeaders[i + 1]]);
  }
  return out;
}

// Debian's curl as an independent client: it speaks CONNECT and TLS with OpenSSL, not Node.
// No --compressed, so a gzip body stays as the bytes that came over the wire.
export const CURL = '/usr/bin/curl';

export interface CurlResult {
  exitCode: number;
  statusCode: number;
  /** The final response's headers as [name, value, …], case and order kept. */
  rawHeaders: string[];
  body: Buffer;
  stderr: string;
}

/** The environment without any proxy or CA variables, so only explicit flags count. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|curl_ca_bundle|ssl_cert_file)$/i.test(k)) delete env[k];
  }
  return env;
}

export async function curl(url: string, args: string[]): Promise<CurlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-curl-'));
  try {
    const headerFile = join(dir, 'headers');
    const bodyFile = join(dir, 'body');
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(CURL, ['-sS', '--noproxy', '', '-D', headerFile, '-o', bodyFile, ...args, url], { env: cleanEnv() }, (err, _out, errText) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr: errText });
      });
    });
    const headers = readOr(headerFile).toString('latin1');
    // With a proxy the dump holds the CONNECT answer first; the last block is the response.
    const blocks = headers.split('\r\n\r\n').filter((b) => b.trim() !== '');
    const lines = (blocks.at(-1) ?? '').split('\r\n');
    const rawHeaders: string[] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      rawHeaders.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    return { exitCode: code, statusCode: Number(lines[0]?.split(' ')[1] ?? 0), rawHeaders, body: readOr(bodyFile), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A streaming curl (-N): read its stdout as the bytes arrive. */
export function curlStream(url: string, args: string[]): { child: ChildProcessWithoutNullStreams; exit: Promise<number> } {
  const child = spawn(CURL, ['-sS', '-N', '--noproxy', '', ...args, url], { env: cleanEnv() });
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, exit };
}

function readOr(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}
