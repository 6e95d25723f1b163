// The tap events the proxy thread posts to capture in one message, with the body bytes in
// buffers of their own that the message transfers (the socket's buffers may be slices of a
// shared pool, which must not be detached).
//
// Consecutive body chunks of one exchange in a batch travel in one buffer: a 100 KB body came as
// seven to nine chunks, each a buffer allocated, tracked by V8 as external memory, transferred,
// adopted and swept on the capture thread, then joined there again. An event stream's chunks stay
// apart, since each SSE event takes the time of the chunk that brought it (docs/decisions.md, decision 91).
import type { BodyChunk, TapEvent } from './tap';

export class EventBatch {
  private events: TapEvent[] = [];
  private transfer: ArrayBuffer[] = [];
  /**
   * The chunks a body event of this batch will carry, joined when the batch is taken (within 4 ms):
   * they are the sockets' own buffers, which Node never writes into again once it has handed them out.
   */
  private parts = new Map<BodyChunk, Buffer[]>();
  /** Per exchange, its body event that the next chunk may join: the exchange's latest event in this batch. */
  private open = new Map<number, BodyChunk>();
  /** Exchanges whose response is an event stream (until they end). */
  private readonly streams = new Set<number>();

  get size(): number {
    return this.events.length;
  }

  add(event: TapEvent): void {
    if (event.type === 'request-body' || event.type === 'response-body') return this.addChunk(event);
    if ('exchangeId' in event && event.exchangeId !== undefined) {
      this.open.delete(event.exchangeId);
      if (event.type === 'response-head' && isEventStream(event.rawHeaders)) this.streams.add(event.exchangeId);
      else if (event.type === 'exchange-end') this.streams.delete(event.exchangeId);
    }
    if (event.type === 'ws-message') this.events.push({ ...event, data: this.own([event.data]) });
    else this.events.push(event);
  }

  /** The batch's events, their chunks joined, and the buffers to transfer with them; the batch starts empty again. */
  take(): { events: TapEvent[]; transfer: ArrayBuffer[] } {
    for (const [event, chunks] of this.parts) event.chunk = this.own(chunks);
    const taken = { events: this.events, transfer: this.transfer };
    this.events = [];
    this.transfer = [];
    this.parts = new Map();
    this.open = new Map();
    return taken;
  }

  private addChunk(event: BodyChunk): void {
    const last = this.open.get(event.exchangeId);
    if (last && last.type === event.type && !(event.type === 'response-body' && this.streams.has(event.exchangeId))) {
      this.parts.get(last)?.push(event.chunk);
      // A response's end is timed by its last chunk.
      last.time = event.time;
      return;
    }
    const own: BodyChunk = { ...event };
    this.events.push(own);
    this.parts.set(own, [event.chunk]);
    this.open.set(event.exchangeId, own);
  }

  /** A copy of `chunks`, one after the other, in an ArrayBuffer of its own, listed for transfer. */
  private own(chunks: readonly Buffer[]): Buffer {
    let size = 0;
    for (const c of chunks) size += c.length;
    // Not from Buffer's shared pool, which must not be detached; uninitialized, as every byte is written below.
    const copy = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const c of chunks) at += c.copy(copy, at);
    this.transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  }
}

function isEventStream(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length - 1; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'content-type') return /^\s*text\/event-stream\b/i.test(rawHeaders[i + 1]);
  }
  return false;
}
