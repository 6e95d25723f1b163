// When the writer compresses. Deflating a chunk costs about as much as everything else capture
// does with it, so on a flood of new content compression is what makes capture fall behind
// forwarding, and then the proxy records exchanges without their bodies. While capture is behind,
// new chunks are stored raw; once it keeps up again, they are compressed in small passes
// (docs/decisions.md, decision 47).

/**
 * Capture this far behind the traffic (the age of the event being recorded) stores chunks raw,
 * well before the 500 ms at which the proxy records exchanges without bodies (src/proxy/proxy-worker.ts):
 * at 250 ms a flood of 100 KB bodies got there all the same (459 of 608 whole, against 608 at 100 ms).
 */
const DEFER_AFTER_LAG_MS = 100;
/**
 * Further behind, large bodies are also stored uncut (decision 73), to be cut by the passes. That
 * writes them twice and puts off their deduplication, so it waits until bodies are at risk: past
 * 50 ms, and still past 150 ms, a steady 8 MB/s in VS Code stored nearly every body uncut, and the
 * store passed its size limit before the passes could cut them. Below it, only a body that opens with
 * new content goes uncut: a resent history is cut at once (decision 77).
 */
const UNCUT_AFTER_LAG_MS = 300;
/** How long raw storing lasts after the last lagging event: a flood comes in waves. */
const DEFER_FOR_MS = 2000;
/** A pass compresses this much, then yields: at ~70–100 MB/s, 20–30 ms on the writer's thread (up to ~20 MB/s in all). */
const PASS_RAW_BYTES = 2 * 1024 * 1024;
const PASS_INTERVAL_MS = 100;

export interface PacedWriter {
  /** Compresses up to `maxRawBytes` of deferred chunks; returns how many chunks it looked at (0: none left). */
  compressDeferred(maxRawBytes: number): number;
}

export class CompressionPacer {
  private deferUntil = 0;
  private uncutUntil = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly writer: PacedWriter, private readonly onError: (err: unknown) => void) {}

  /** True while new chunks should be stored raw. */
  get deferring(): boolean {
    return Date.now() < this.deferUntil;
  }

  /** True while large bodies should be stored uncut too. */
  get farBehind(): boolean {
    return Date.now() < this.uncutUntil;
  }

  /** The age of the event capture is recording now. */
  noteLag(ms: number): void {
    if (ms <= DEFER_AFTER_LAG_MS) return;
    this.deferUntil = Date.now() + DEFER_FOR_MS;
    if (ms > UNCUT_AFTER_LAG_MS) this.uncutUntil = this.deferUntil;
    this.schedule();
  }

  /** Looks for deferred chunks soon (those a previous process left, after opening). */
  schedule(delayMs = PASS_INTERVAL_MS): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pass();
    }, Math.max(delayMs, this.deferUntil - Date.now()));
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pass(): void {
    if (this.deferring) return this.schedule();
    try {
      if (this.writer.compressDeferred(PASS_RAW_BYTES) > 0) this.schedule();
    } catch (err) {
      this.onError(err);
    }
  }
}
