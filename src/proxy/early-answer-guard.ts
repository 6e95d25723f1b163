// An upstream may answer before it has read the whole upload (413, 401, 400 …) and close at once
// (RFC 9112 §9.6). Its kernel then resets the connection, and the proxy's next write of the upload
// fails with ECONNRESET or EPIPE while the answer still waits, unread, in the socket's buffer.
// Node destroys a socket on its first failed write, which throws that answer away: the client got
// a 502 where a direct connection gets the 413 (docs/decisions.md, decision 54). This keeps such a
// socket open until its read side has ended, so the answer is read and passed on.
import type { Duplex } from 'node:stream';

/** How long a socket whose write failed may wait for its read side to end. */
export const EARLY_ANSWER_GRACE_MS = 2000;

interface StreamStates {
  _readableState?: { errored: Error | null; ended: boolean };
}

/** Makes a failed write leave the socket readable until its read side ends or fails. */
export function guardEarlyAnswer(socket: Duplex, graceMs = EARLY_ANSWER_GRACE_MS): void {
  const destroy = socket.destroy.bind(socket);
  const states = socket as Duplex & StreamStates;
  let held: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const release = (error?: Error): Duplex => {
    if (timer) clearTimeout(timer);
    socket.destroy = destroy;
    return destroy(error ?? held);
  };
  socket.destroy = (error?: Error): Duplex => {
    const readable = states._readableState;
    if (held && isWriteReset(error)) return socket; // Later writes fail the same way.
    if (held || !isWriteReset(error) || !readable || readable.ended) return release(error);
    held = error;
    // The failed write marked the read side as failed too; it has not, and what is in the buffer
    // must still be delivered. Only the write side is over.
    readable.errored = null;
    socket.once('end', () => release());
    timer = setTimeout(() => release(), graceMs);
    timer.unref();
    return socket;
  };
}

/** The peer closed or reset the connection (Node's "socket hang up", or a reset on read or write). */
export function closedByPeer(error: Error | undefined): error is Error & { code: string } {
  const code = (error as (Error & { code?: string }) | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function isWriteReset(error: Error | undefined): error is Error {
  return closedByPeer(error) && (error as Error & { syscall?: string }).syscall === 'write';
}
