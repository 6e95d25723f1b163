// A request that Node's HTTP parser refuses (Content-Length with Transfer-Encoding, a duplicate
// Content-Length, a header block over the limit, …) is answered as a well-behaved server answers
// it, instead of a closed connection with no status line, and the refusal is reported to the tap.
// Node answers these itself when no 'clientError' listener exists; having one, we must do it.
import type { Duplex } from 'node:stream';
import type { ProxyContext } from './proxy-context';
import { now } from './tap';

function statusFor(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

/** Sockets already answered: the parser keeps failing on the bytes that follow, and each failure comes here again. */
const answered = new WeakSet<Duplex>();

export function answerClientError(ctx: ProxyContext, err: NodeJS.ErrnoException, socket: Duplex, connectionId?: number): void {
  if (answered.has(socket)) return;
  // A reset or a socket already gone has no one to answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  answered.add(socket);
  const [status, text] = statusFor(err.code);
  ctx.emit({ type: 'error', time: now(), ...(connectionId !== undefined ? { connectionId } : {}),
    message: `refused a malformed request with ${status} ${text}: ${err.message}`, ...(err.code ? { code: err.code } : {}) });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // The client may still be sending (the rest of a header block over the limit). Those bytes are
  // read and dropped, not parsed: closing with them unread would reset the connection, and a reset
  // discards the answer at the client before it reads it (the "lingering close" of RFC 9112 §9.6).
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  // end() lets the answer out; a client that never reads or never stops must not hold the socket.
  setTimeout(() => socket.destroy(), 5_000).unref();
}
