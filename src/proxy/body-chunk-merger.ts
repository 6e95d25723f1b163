// Body bytes bound for the capture thread, copied into buffers that can be transferred, and the
// chunks of one body that arrive within one batch merged into one event. A 100 KB body comes as
// about seven TLS records; as many events and buffers cost more to post (a structured clone and a
// transferred ArrayBuffer each) and to take in on the other side than their bytes do
// (docs/decisions.md, decision 77). Copies, because the socket's buffers may be slices of a shared
// pool, which must not be detached.
import type { BodyChunk } from './tap';

/** A merged body's buffer starts at this size and doubles; the chunks of one batch rarely pass it. */
const MERGE_CAPACITY = 64 * 1024;

interface OpenBody {
  event: BodyChunk;
  bytes: Uint8Array;
  used: number;
}

export class BodyChunkMerger {
  /** Body events of the current batch that later chunks may join, by `type:exchangeId`. */
  private readonly open = new Map<string, OpenBody>();
  /** Every body event of the current batch, to be given its bytes when the batch is sealed. */
  private readonly pending: OpenBody[] = [];

  /**
   * Copies the chunk. Returns the event to append to the batch, or undefined when the chunk joined
   * the previous event of the same body. `merge: false` keeps it an event of its own (an SSE
   * answer's chunks keep their own times, which its events are stamped with).
   */
  add(event: BodyChunk, merge: boolean): BodyChunk | undefined {
    const key = `${event.type}:${event.exchangeId}`;
    const open = merge ? this.open.get(key) : undefined;
    if (open) {
      this.append(open, event.chunk);
      open.event.time = event.time;
      return undefined;
    }
    const copy = new Uint8Array(event.chunk.length);
    copy.set(event.chunk);
    const entry: OpenBody = { event: { ...event }, bytes: copy, used: copy.length };
    this.pending.push(entry);
    if (merge) this.open.set(key, entry);
    else this.open.delete(key);
    return entry.event;
  }

  /** Another event of this exchange was batched: body chunks after it must not join those before it. */
  interrupt(exchangeId: number): void {
    this.open.delete(`request-body:${exchangeId}`);
    this.open.delete(`response-body:${exchangeId}`);
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
    this.open.clear();
    return buffers;
  }

  private append(open: OpenBody, chunk: Uint8Array): void {
    const needed = open.used + chunk.length;
    if (needed > open.bytes.length) {
      const grown = new Uint8Array(Math.max(MERGE_CAPACITY, needed * 2));
      grown.set(open.bytes.subarray(0, open.used));
      open.bytes = grown;
    }
    open.bytes.set(chunk, open.used);
    open.used = needed;
  }
}
