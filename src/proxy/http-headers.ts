// Header handling shared by HTTP forwarding and the WebSocket relay.

/**
 * The largest header block accepted from a client or from an upstream (docs/decisions.md,
 * decision 40): the same both ways, so that whatever one side may send reaches the other.
 */
export const MAX_HEADER_BYTES = 256 * 1024;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) are about one connection, so they are not forwarded.
 * `transfer-encoding` is kept on purpose: Node re-frames the body itself when it sees
 * `chunked`, so passing it through keeps the message's framing the same on both legs.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'upgrade', 'te', 'trailer']);

/** Drops hop-by-hop headers, plus any the `Connection` header names, from [name, value, …]. */
export function endToEndHeaders(raw: readonly string[], alsoDrop: readonly string[] = []): string[] {
  const drop = new Set([...HOP_BY_HOP, ...alsoDrop]);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'connection') {
      for (const token of raw[i + 1].split(',')) drop.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

export function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/** The URL the client meant, with the default port left out. */
export function absoluteUrl(scheme: 'http' | 'https' | 'ws' | 'wss', host: string, port: number, path: string): string {
  const defaultPort = scheme === 'https' || scheme === 'wss' ? 443 : 80;
  const h = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}${port === defaultPort ? '' : `:${port}`}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Splits an absolute-form request target (RFC 9112 §3.2.2) into its parts. */
export function parseAbsoluteForm(target: string): { scheme: 'http' | 'https'; host: string; port: number; path: string } | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { scheme, host, port: Number(url.port || (scheme === 'https' ? 443 : 80)), path: `${url.pathname}${url.search}` };
}

/** Splits a CONNECT authority (`host:port`, `[v6]:port`). */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2]).toLowerCase(), port };
}
