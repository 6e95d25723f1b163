// Proxy credentials tag a connection with a terminal label: http://<label>:<token>@127.0.0.1:<port>.
// Clients send them as `Proxy-Authorization: Basic base64(label:token)` (RFC 9110 §11.7.1).
import { timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProxyAuth } from './options';

export type AuthResult = { ok: true; label?: string } | { ok: false; reason: string };

export function checkProxyAuth(headers: IncomingHttpHeaders, auth: ProxyAuth | undefined): AuthResult {
  const credentials = parseBasic(headers['proxy-authorization']);
  if (!auth) return { ok: true, label: credentials?.user || undefined };
  if (!credentials) {
    return auth.required ? { ok: false, reason: 'proxy credentials required' } : { ok: true };
  }
  if (!sameSecret(credentials.password, auth.token)) {
    return auth.required ? { ok: false, reason: 'wrong proxy token' } : { ok: true };
  }
  return { ok: true, label: credentials.user || undefined };
}

/**
 * The one 407 the proxy sends, on all three paths: CONNECT and WebSocket upgrades get it raw on
 * the socket, which is then closed; a plain-HTTP request gets it through its response, so the
 * client may retry with credentials on the same connection.
 */
export function sendProxyAuthRequired(to: ServerResponse | Duplex, reason: string): void {
  const body = `llm-capture: ${reason}\n`;
  const headers: [string, string][] = [
    ['Proxy-Authenticate', 'Basic realm="LLM Capture"'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
  ];
  if (to instanceof ServerResponse) {
    to.writeHead(407, 'Proxy Authentication Required', headers);
    to.end(body);
    return;
  }
  const head = [...headers, ['Connection', 'close']].map(([name, value]) => `${name}: ${value}\r\n`).join('');
  to.end(`HTTP/1.1 407 Proxy Authentication Required\r\n${head}\r\n${body}`);
}

function parseBasic(value: string | undefined): { user: string; password: string } | undefined {
  if (!value) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decodeURIComponent(decoded), password: '' };
  return { user: safeDecode(decoded.slice(0, colon)), password: safeDecode(decoded.slice(colon + 1)) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
