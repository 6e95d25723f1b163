// Terminates the client's TLS inside a CONNECT tunnel with a certificate for the host it asked
// for, then hands the decrypted socket to the proxy's inner HTTP server.
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { ClientConnection, ProxyContext } from './proxy-context';
import { now } from './tap';

export interface LeafContexts {
  secureContextFor(hostname: string): tls.SecureContext;
}

// TLS alerts by which a client says it does not trust our certificate (RFC 8446 §6.2).
const REJECTION = /alert (bad certificate|unsupported certificate|certificate revoked|certificate expired|certificate unknown|unknown ca|access denied)|ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|UNKNOWN_CA|ACCESS_DENIED)/i;

export function interceptTls(
  ctx: ProxyContext,
  conn: ClientConnection,
  clientSocket: Socket,
  leaves: LeafContexts,
  onSecure: (socket: tls.TLSSocket) => void,
): void {
  let defaultContext: tls.SecureContext;
  try {
    defaultContext = leaves.secureContextFor(conn.host);
  } catch (e) {
    fail('failed', `could not issue a certificate for ${conn.host}: ${(e as Error).message}`);
    clientSocket.destroy();
    return;
  }
  const socket = new tls.TLSSocket(clientSocket, {
    isServer: true,
    secureContext: defaultContext,
    ALPNProtocols: ['http/1.1'],
    SNICallback: (servername, cb) => {
      sni = servername;
      try {
        cb(null, servername.toLowerCase() === conn.host ? defaultContext : leaves.secureContextFor(servername));
      } catch (e) {
        cb(e as Error, undefined);
      }
    },
  });
  ctx.track(socket);
  let secure = false;
  let sni: string | undefined;

  socket.once('secure', () => {
    secure = true;
    ctx.emit({
      type: 'tls-handshake', connectionId: conn.id, time: now(), outcome: 'ok',
      servername: (socket as tls.TLSSocket & { servername?: string }).servername || undefined,
      alpnProtocol: socket.alpnProtocol || undefined,
    });
    onSecure(socket);
  });
  socket.on('error', (e: Error & { code?: string }) => {
    if (secure) return; // Errors after the handshake belong to the HTTP layer.
    const text = `${e.code ?? ''} ${e.message}`;
    if (REJECTION.test(text)) {
      const alert = /alert ([a-z ]+?)(?::|$)/i.exec(e.message)?.[1] ?? e.code ?? e.message;
      fail('client-rejected-certificate', `the client rejected our certificate for ${conn.host} (TLS alert: ${alert.trim()}); it does not trust the LLM Capture CA`);
    } else {
      fail('failed', `TLS handshake with the client failed: ${e.message}`);
    }
    socket.destroy();
  });
  // The raw socket comes from an HTTP server, so it is half-open: an EOF during the handshake
  // would leave it open for ever. A Node client that rejects our certificate closes this way,
  // without an alert, so this is also how such a rejection is seen.
  socket.once('end', () => {
    if (!secure) socket.destroy();
  });
  socket.once('close', () => {
    if (!secure && !reported) {
      fail('client-rejected-certificate', `the client closed the connection during the TLS handshake for ${conn.host}; it probably does not trust the LLM Capture CA`);
    }
  });

  let reported = false;
  function fail(outcome: 'client-rejected-certificate' | 'failed', detail: string): void {
    if (reported) return;
    reported = true;
    ctx.emit({ type: 'tls-handshake', connectionId: conn.id, time: now(), outcome, detail, ...(sni ? { servername: sni } : {}) });
    ctx.log('warn', detail);
  }
}
