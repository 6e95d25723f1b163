// A pooled upstream connection can be closed by the server just as the proxy reuses it (the server's
// keep-alive timeout and our reuse cross on the wire). The request then fails before any answer,
// with a reset or "socket hang up", through no fault of the client's, whose own connection to the
// proxy is fine. Node's documentation advises sending it again when `reusedSocket` is set
// (https://nodejs.org/api/http.html#requestreusedsocket); that needs the upload, so it is kept,
// by reference, until the upstream answers (docs/decisions.md, decision 59).
import type http from 'node:http';
import { closedByPeer } from './early-answer-guard';

/** Uploads up to this size are kept for a second attempt; LLM requests are rarely over a few MB. */
export const REPLAY_LIMIT = 32 * 1024 * 1024;
/** A request is sent at most this many more times, each on another pooled or new connection. */
export const MAX_REPLAYS = 2;

export class ReplayableUpload {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private kept = true;
  ended = false;

  add(chunk: Buffer): void {
    if (!this.kept) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > REPLAY_LIMIT) this.forget();
  }

  /** The upstream has answered (or the upload is too large to keep): no replay from here on. */
  forget(): void {
    this.kept = false;
    this.chunks = [];
  }

  get replayable(): boolean {
    return this.kept;
  }

  /** Writes what the client has sent so far into a new attempt (and ends it if the upload has). */
  replayInto(request: http.ClientRequest): void {
    for (const chunk of this.chunks) request.write(chunk);
    if (this.ended) request.end();
  }
}

/** The attempt failed because the pooled connection it reused was closed under it. */
export function metClosedPooledConnection(request: http.ClientRequest, e: Error): boolean {
  return request.reusedSocket && closedByPeer(e);
}
