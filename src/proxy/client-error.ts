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

export function answerClientError(ctx: ProxyContext, err: NodeJS.ErrnoException, socket: Duplex, connectionId?: number): void {
  // A reset or a socket already gone has no one to answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text] = statusFor(err.code);
  ctx.emit({ type: 'error', time: now(), ...(connectionId !== undefined ? { connectionId } : {}),
    message: `refused a malformed request with ${status} ${text}: ${err.message}`, ...(err.code ? { code: err.code } : {}) });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // end() lets the answer out; a client that never reads must not hold the socket.
  setTimeout(() => socket.destroy(), 5_000).unref();
}
