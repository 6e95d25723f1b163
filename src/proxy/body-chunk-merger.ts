// Body bytes bound for the capture thread, copied into buffers that can be transferred, and the
// chunks of one body that arrive within one batch merged into one event. A 100 KB body comes as
// about seven TLS records; as many events and buffers cost more to post (a structured clone and a
// transferred ArrayBuffer each) and to take in on the other side than their bytes do
// (docs/decisions.md, decision 77). Copies, because the socket's buffers may be slices of a shared
// pool, which must not be detached.
import type { BodyChunk } from './tap';

/**
 * A merged event's buffer: a body's chunks join it while they fit, then start the next one, so each
 * byte is copied once (a buffer that grew by doubling copied a large body's bytes twice).
 */
const MERGE_CAPACITY = 256 * 1024;

interface OpenBody {
  event: BodyChunk;
  bytes: Uint8Array;
  used: number;
}

export class BodyChunkMerger {
  /** Body events of the current batch that later chunks may join, by exchange id. */
  private readonly open = { 'request-body': new Map<number, OpenBody>(), 'response-body': new Map<number, OpenBody>() };
  /** Every body event of the current batch, to be given its bytes when the batch is sealed. */
  private readonly pending: OpenBody[] = [];

  /**
   * Copies the chunk. Returns the event to append to the batch, or undefined when the chunk joined
   * the previous event of the same body. `merge: false` keeps it an event of its own (an SSE
   * answer's chunks keep their own times, which its events are stamped with).
   */
  add(event: BodyChunk, merge: boolean): BodyChunk | undefined {
    const open = this.open[event.type];
    const previous = merge ? open.get(event.exchangeId) : undefined;
    if (previous && this.append(previous, event.chunk)) {
      previous.event.time = event.time;
      return undefined;
    }
    const copy = new Uint8Array(event.chunk.length);
    copy.set(event.chunk);
    const entry: OpenBody = { event: { ...event }, bytes: copy, used: copy.length };
    this.pending.push(entry);
    if (merge) open.set(event.exchangeId, entry);
    else open.delete(event.exchangeId);
    return entry.event;
  }

  /** Another event of this exchange was batched: body chunks after it must not join those before it. */
  interrupt(exchangeId: number): void {
    this.open['request-body'].delete(exchangeId);
    this.open['response-body'].delete(exchangeId);
  }

  /** The batch is posted: each body event gets its bytes. Returns the buffers to transfer with it. */
  seal(): ArrayBuffer[] {
    const buffers: ArrayBuffer[] = [];
    for (const entry of this.pending) {
      // A buffer grown for a merge but left mostly empty goes as an exact copy: the other side holds it until the body ends.
      const bytes = entry.used <= entry.bytes.length / 2 ? entry.bytes.slice(0, entry.used) : entry.bytes;
      entry.event.chunk = Buffer.from(bytes.buffer, 0, entry.used);
      buffers.push(bytes.buffer as ArrayBuffer);
    }
    this.pending.length = 0;
    this.open['request-body'].clear();
    this.open['response-body'].clear();
    return buffers;
  }

  /** Adds the chunk to the open event if it fits (the first chunk's own copy is moved into a merge buffer once). */
  private append(open: OpenBody, chunk: Uint8Array): boolean {
    const needed = open.used + chunk.length;
    if (needed > open.bytes.length) {
      if (open.bytes.length >= MERGE_CAPACITY || needed > MERGE_CAPACITY) return false;
      const merged = new Uint8Array(MERGE_CAPACITY);
      merged.set(open.bytes.subarray(0, open.used));
      open.bytes = merged;
    }
    open.bytes.set(chunk, open.used);
    open.used = needed;
    return true;
  }
}
