// Streaming removal of a body's content-codings, with a cap on what is kept.
// The bytes arrive as copies from the tap, after they were forwarded; nothing here can delay
// the client. Output is handed on as it appears (SSE events must reach the store live) and
// kept up to a limit; a body that passes the limit is cut there, and a compression bomb is
// stopped at the limit while inflating, never inflated whole first.
import type { Transform } from 'node:stream';
import type { StoredBody } from './records';
import { consumedBytes, createDecompressor, isSupportedEncoding, OUTPUT_LIMIT_EVENT, type OutputLimitReason } from './decompress-streams';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Past BOMB_FLOOR_BYTES decoded, a body that has decoded to more than BOMB_RATIO times the wire
 * bytes its decoder has consumed is taken for a compression bomb and cut there. Agents' JSON and SSE deflate
 * 5–30 times, a bomb of zeros ~1,000 times (zstd and brotli far more); decoding each bomb to the
 * 64 MiB limit, then copying it for redaction and SSE parsing, cost 150–300 MB of memory that the
 * process kept (docs/decisions.md, decision 74).
 */
export const BOMB_RATIO = 200;
export const BOMB_FLOOR_BYTES = 1024 * 1024;

/**
 * The codings of a Content-Encoding header value, in the order they were applied
 * (RFC 9110 §8.4: "gzip, br" means gzip first, then br). Names are case-insensitive;
 * "identity" means no coding.
 */
export function parseContentEncoding(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
}

export interface BodyDecoderOptions {
  /** The Content-Encoding header value ('' or undefined for none). */
  contentEncoding?: string;
  /** Bytes kept, both decoded and raw. */
  maxBytes?: number;
  /** Receives decoded output in order as soon as it exists (only the part within the limit). */
  onData?: (chunk: Buffer) => void;
}

export interface DecodeResult {
  body: StoredBody;
  /**
   * When decoding failed part-way: what was decoded before the failure. The caller may prefer it
   * to the raw bytes (for example when it holds a secret that the raw bytes would carry hidden).
   */
  decodedPrefix?: Buffer;
}

/** Collects chunks up to a byte limit. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  size = 0;
  overflowed = false;

  constructor(private readonly limit: number) {}

  /** Keeps what fits and returns it (empty once the limit is reached). */
  add(chunk: Buffer): Buffer {
    const room = this.limit - this.size;
    if (chunk.length > room) this.overflowed = true;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length > 0) {
      this.chunks.push(kept);
      this.size += kept.length;
    }
    return kept;
  }

  toBuffer(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
  }
}

/**
 * Undoes a body's content-codings as its chunks arrive. `write` and `end` never throw and `end`
 * never rejects: whatever goes wrong ends up in the result's `error`.
 */
export class BodyDecoder {
  readonly encodings: string[];
  private readonly maxBytes: number;
  private readonly onData: ((chunk: Buffer) => void) | undefined;
  private readonly decoded: CappedBuffer;
  /** Raw wire bytes, kept only while decoding might still fail (identity bodies need no copy). */
  private raw: CappedBuffer | undefined;
  private wireSize = 0;
  private stages: Transform[] = [];
  private error: string | undefined;
  private truncated = false;
  /** Decoding finished, failed or was stopped at the limit: later input is only counted. */
  private settled = false;
  private finished: Promise<void> | undefined;
  private resolveFinished: (() => void) | undefined;

  constructor(options: BodyDecoderOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.onData = options.onData;
    this.encodings = parseContentEncoding(options.contentEncoding);
    this.decoded = new CappedBuffer(this.maxBytes);
    if (this.encodings.length === 0) return;
    this.raw = new CappedBuffer(this.maxBytes);
    const unsupported = this.encodings.find((c) => !isSupportedEncoding(c));
    if (unsupported) {
      this.fail(`unsupported content-encoding "${unsupported}"`);
      return;
    }
    this.buildPipeline();
  }

  write(chunk: Buffer): void {
    this.wireSize += chunk.length;
    if (this.encodings.length === 0) {
      this.output(chunk);
      return;
    }
    this.raw?.add(chunk);
    if (this.settled) return;
    try {
      this.stages[0].write(chunk);
    } catch (e) {
      this.fail(`${this.describe(0)} failed: ${messageOf(e)}`);
    }
  }

  async end(): Promise<DecodeResult> {
    if (!this.settled && this.encodings.length > 0) {
      if (this.wireSize === 0) {
        // Nothing to decode (an empty body can still carry a Content-Encoding header).
        this.settle();
      } else {
        this.finished = new Promise<void>((resolve) => { this.resolveFinished = resolve; });
        if (!this.settled) this.stages[0].end();
        else this.resolveFinished?.();
        await this.finished;
      }
    }
    return this.result();
  }

  private buildPipeline(): void {
    // Undo the codings in the reverse of the order they were applied.
    const order = [...this.encodings].reverse();
    this.stages = order.map((coding, i) => createDecompressor(coding, {
      maxOutputBytes: this.maxBytes, bomb: i === 0 ? { ratio: BOMB_RATIO, floorBytes: BOMB_FLOOR_BYTES } : undefined,
    }));
    this.stages.forEach((stage, i) => {
      stage.on('error', (e: Error) => this.fail(`${this.describe(i)} failed: ${e.message}`));
      stage.on(OUTPUT_LIMIT_EVENT, (reason: OutputLimitReason) => (reason === 'ratio' ? this.stopAsBomb() : this.stopAtLimit()));
      // pipe() keeps back-pressure between stages, so an inner stage cannot run ahead unbounded.
      if (i + 1 < this.stages.length) stage.pipe(this.stages[i + 1]);
    });
    const last = this.stages[this.stages.length - 1];
    last.on('data', (chunk: Buffer) => {
      if (!this.settled) this.output(chunk);
    });
    last.on('end', () => this.settle());
  }

  /** Keeps decoded output up to the limit and passes it on; past the limit, stops decoding. */
  private output(chunk: Buffer): void {
    const kept = this.decoded.add(chunk);
    if (kept.length > 0) this.onData?.(kept);
    if (this.decoded.overflowed) this.stopAtLimit();
    else if (this.stages.length > 0 && this.decoded.size > BOMB_FLOOR_BYTES) {
      // Against what the first stage has consumed, not what was written to it: a bomb arrives whole
      // long before it is inflated.
      const consumed = consumedBytes(this.stages[0]) ?? this.wireSize;
      if (this.decoded.size > BOMB_RATIO * consumed) this.stopAsBomb();
    }
  }

  private stopAtLimit(): void {
    this.stop(this.encodings.length === 0
      ? `body is larger than the ${this.maxBytes}-byte capture limit; kept the first ${this.maxBytes} bytes`
      : `decoded body is larger than the ${this.maxBytes}-byte capture limit (possible compression bomb); ` +
        `decoding stopped there and the first ${this.maxBytes} decoded bytes were kept`);
  }

  private stopAsBomb(): void {
    this.stop(`decoded body grew past ${BOMB_RATIO} times the compressed bytes it came from (possible compression bomb); ` +
      `decoding stopped there and the first ${this.decoded.size} decoded bytes were kept`);
  }

  private stop(error: string): void {
    if (this.settled) return;
    this.truncated = true;
    this.error = error;
    this.settle();
  }

  private fail(message: string): void {
    if (this.settled) return;
    this.error = message;
    this.settle();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    for (const stage of this.stages) stage.destroy();
    this.resolveFinished?.();
  }

  private describe(stageIndex: number): string {
    const coding = [...this.encodings].reverse()[stageIndex];
    return `${coding} decoding`;
  }

  private result(): DecodeResult {
    const encoding = this.encodings.join(', ');
    const decodeFailed = this.error !== undefined && !this.truncated;
    if (decodeFailed && this.raw) {
      // Keep the bytes as they were on the wire, and the reason beside them.
      const body: StoredBody = {
        data: this.raw.toBuffer(), wireSize: this.wireSize, encoding, decoded: false,
        truncated: this.raw.overflowed, error: this.error,
      };
      if (this.raw.overflowed) body.error += `; raw body cut at the ${this.maxBytes}-byte capture limit`;
      const decodedPrefix = this.decoded.size > 0 ? this.decoded.toBuffer() : undefined;
      return decodedPrefix ? { body, decodedPrefix } : { body };
    }
    const body: StoredBody = {
      data: this.decoded.toBuffer(), wireSize: this.wireSize, encoding, decoded: true, truncated: this.truncated,
    };
    if (this.error) body.error = this.error;
    return { body };
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
