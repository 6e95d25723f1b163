// An upstream that misbehaves on purpose, for fault tests: a raw TLS server whose request path
// picks the fault (so each byte it sends is the test's), and a TCP server that accepts and then
// never speaks (a TLS handshake that never completes). It counts the sockets it holds open, so a
// test can show the proxy released its side.
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/** What a path on the TLS server does once the request's head has arrived. */
export const FAULTS = {
  /** Answers 413 without reading the upload, then closes (`?close=reset` destroys with the upload unread). */
  early413: '/early-413',
  /** Closes the connection without a byte of response. */
  closeBeforeHeaders: '/close-before-headers',
  /** Never answers. */
  silentHeaders: '/silent-headers',
  /** Sends the head and one SSE event, then nothing more. */
  silentBody: '/silent-body',
  /** Sends the head and one SSE event, then resets the connection. */
  resetMidStream: '/reset-mid-stream',
  /** Answers 200 and keeps the connection, then closes it when the next request on it arrives. */
  keepAliveOnce: '/keep-alive-once',
} as const;

export const EARLY_413_BODY = 'request entity too large\n';
export const FIRST_EVENT = 'event: ping\ndata: {"type":"ping"}\n\n';

export interface FaultUpstream {
  tlsPort: number;
  /** Accepts TCP and never sends a byte: a TLS handshake never completes. */
  silentPort: number;
  /** Sockets either server holds open now. */
  openSockets(): number;
  /** Connections either server has accepted so far. */
  acceptedCount(): number;
  /** Resolves once either server has accepted `count` connections in all. */
  accepted(count: number): Promise<void>;
  /** Resolves when every socket either server accepted has closed. */
  allClosed(): Promise<void>;
  /** Requests for `path` (without its query) so far. */
  requestCount(path: string): number;
  /** Resolves when `times` requests for `path` (without its query) have arrived in all. */
  requested(path: string, times?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultUpstream(cert: { key: string; cert: string }): Promise<FaultUpstream> {
  const open = new Set<Socket>();
  let acceptedCount = 0;
  const waiters = new Set<() => void>();
  const requestsByPath = new Map<string, number>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  const track = (socket: Socket): void => {
    open.add(socket);
    acceptedCount++;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      open.delete(socket);
      notify();
    });
    notify();
  };
  const until = (done: () => boolean): Promise<void> => new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
    check();
  });

  // The TCP socket under each TLS one, by client port: a reset must go out on the TCP socket.
  const rawByPort = new Map<number, Socket>();
  // Reads and drops what arrives, so that the peer's close is seen.
  const silent = createTcpServer((socket) => {
    track(socket);
    socket.resume();
  });
  const tls = createTlsServer({ key: cert.key, cert: cert.cert, ALPNProtocols: ['http/1.1'] }, (socket) => {
    let head = Buffer.alloc(0);
    let keptAlive = false;
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      // A connection kept alive by keepAliveOnce is closed as the next request arrives, as if the
      // server's keep-alive timeout had crossed it on the wire.
      if (keptAlive) return void socket.destroy();
      socket.removeListener('data', onData);
      const target = head.subarray(0, head.indexOf('\r\n')).toString('latin1').split(' ')[1] ?? '/';
      const [path, query = ''] = target.split('?');
      requestsByPath.set(path, (requestsByPath.get(path) ?? 0) + 1);
      notify();
      if (path === FAULTS.keepAliveOnce) {
        keptAlive = true;
        head = Buffer.alloc(0);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        socket.on('data', onData);
        return;
      }
      act(socket, path, new URLSearchParams(query), rawByPort.get(socket.remotePort ?? 0) ?? socket);
    };
    socket.on('data', onData);
  });
  tls.on('connection', (raw: Socket) => {
    track(raw);
    const port = raw.remotePort ?? 0;
    rawByPort.set(port, raw);
    raw.on('close', () => rawByPort.delete(port));
  });
  tls.on('tlsClientError', () => undefined);

  await Promise.all([listen(silent), listen(tls)]);
  return {
    tlsPort: (tls.address() as AddressInfo).port,
    silentPort: (silent.address() as AddressInfo).port,
    openSockets: () => open.size,
    acceptedCount: () => acceptedCount,
    accepted: (count) => until(() => acceptedCount >= count),
    allClosed: () => until(() => open.size === 0),
    requestCount: (path) => requestsByPath.get(path) ?? 0,
    requested: (path, times = 1) => until(() => (requestsByPath.get(path) ?? 0) >= times),
    close: async () => {
      for (const s of open) s.destroy();
      await Promise.all([closeServer(silent), closeServer(tls)]);
    },
  };
}

function act(socket: Socket, path: string, query: URLSearchParams, raw: Socket): void {
  const sseHead = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
  const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  if (path === FAULTS.early413) {
    const answer = `HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: ${EARLY_413_BODY.length}\r\nconnection: close\r\n\r\n${EARLY_413_BODY}`;
    // A server that closes with the upload unread makes its kernel send a reset (RFC 9112 §9.6).
    const close = query.get('close');
    if (close === 'reset') socket.write(answer, () => socket.destroy());
    else if (close === 'reset-later') socket.write(answer, () => setTimeout(() => socket.destroy(), 5));
    else socket.end(answer);
    return;
  }
  // Past the head, what the client sends is read and dropped, so its close is seen.
  socket.resume();
  switch (path) {
    case FAULTS.closeBeforeHeaders:
      socket.end();
      return;
    case FAULTS.silentHeaders:
      return;
    case FAULTS.silentBody:
      socket.write(sseHead + chunk(FIRST_EVENT));
      return;
    case FAULTS.resetMidStream:
      socket.write(sseHead + chunk(FIRST_EVENT), () => setTimeout(() => raw.resetAndDestroy(), 20));
      return;
    default:
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
