// Malformed HTTP from the client's side: mutations of a valid request's bytes (flipped bytes, bad
// line ends, duplicate or conflicting lengths, bad chunk sizes, huge or invalid headers) written
// raw on a TLS connection. The proxy must answer as a direct Node HTTPS server with the same
// limits does: the same status, or none when it closes; and it must go on serving.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Rng } from './rng';

export interface RawHttpCase {
  name: string;
  bytes: Buffer;
}

const head = (host: string, lines: string[], eol = '\r\n'): string => [`POST /v1/messages?case=raw HTTP/1.1`, `Host: ${host}`, ...lines].join(eol) + eol + eol;

const MUTATIONS: Record<string, (rng: Rng, host: string) => Buffer> = {
  flips: (rng, host) => {
    const out = Buffer.from(head(host, ['Content-Type: application/json', 'Content-Length: 2']) + '{}');
    for (let i = rng.int(1, 4); i > 0; i--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
    return out;
  },
  lfOnly: (_rng, host) => Buffer.from(head(host, ['Content-Length: 2'], '\n') + '{}'),
  bareCr: (_rng, host) => Buffer.from(`POST / HTTP/1.1\rHost: ${host}\r\n\r\n`),
  duplicateLength: (rng, host) => Buffer.from(head(host, ['Content-Length: 2', `Content-Length: ${rng.pick([2, 3, 10])}`]) + '{}'),
  lengthAndChunked: (_rng, host) => Buffer.from(head(host, ['Content-Length: 2', 'Transfer-Encoding: chunked']) + '2\r\n{}\r\n0\r\n\r\n'),
  badChunkSize: (rng, host) => Buffer.from(head(host, ['Transfer-Encoding: chunked']) + `${rng.pick(['zz', '-1', 'ffffffffffffffffff', '2;x=\x00'])}\r\n{}\r\n0\r\n\r\n`),
  invalidHeaderName: (rng, host) => Buffer.from(head(host, [`${rng.pick(['Bad Name', 'x(y)', 'a:b', '\x01x'])}: v`, 'Content-Length: 0'])),
  nulInValue: (_rng, host) => Buffer.from(head(host, ['X-Nul: a\x00b', 'Content-Length: 0'])),
  obsFold: (_rng, host) => Buffer.from(head(host, ['X-Fold: a', ' b', 'Content-Length: 0'])),
  hugeHeader: (rng, host) => Buffer.from(head(host, [`X-Big: ${'h'.repeat(rng.pick([100, 200, 300]) * 1024)}`, 'Content-Length: 0'])),
  badMethod: (rng, host) => Buffer.from(`${rng.pick(['P OST', 'GET\x7f', 'ÄÖ'])} / HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
  badVersion: (rng, host) => Buffer.from(`GET / ${rng.pick(['HTTP/9.9', 'HTTP/1.x', 'HTCPCP/1.0', ''])}\r\nHost: ${host}\r\n\r\n`),
  noHost: () => Buffer.from('GET /v1/models HTTP/1.1\r\nContent-Length: 0\r\n\r\n'),
  garbage: (rng) => rng.bytes(rng.int(1, 2048)),
};

export function rawHttpCase(rng: Rng, host: string): RawHttpCase {
  const name = rng.pick(Object.keys(MUTATIONS));
  return { name, bytes: MUTATIONS[name]!(rng, host) };
}

/** The first status code answered on a TLS socket after writing `bytes`, or 'none' if it closed without one. */
export async function firstStatus(socket: TLSSocket, bytes: Buffer): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const status = (): string | undefined => /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1];
  socket.write(bytes);
  // Done at the first status line or when the server closes. A server still waiting for the rest of
  // an incomplete request after a quiet spell is told there is no more (our side ends), as both
  // the direct server and the proxy are.
  let quiet: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const hang = setTimeout(resolve, 10_000); // only catches a hang
    const finish = (): void => {
      clearTimeout(hang);
      clearTimeout(quiet);
      resolve();
    };
    const idle = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.end(), 300);
    };
    socket.on('data', () => (status() ? finish() : idle()));
    socket.once('close', finish);
    idle();
  });
  socket.destroy();
  return status() ?? 'none';
}

/** A TLS connection straight to a server on 127.0.0.1, with `servername` as the TLS name. */
export function directTls(port: number, servername: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] });
    s.once('secureConnect', () => resolve(s)).once('error', reject);
  });
}
