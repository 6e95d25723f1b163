// One streaming decompressor per content-coding (RFC 9110 §8.4.1): gzip, deflate, br, zstd.
// Every stream here is incremental, so a body is never inflated whole into memory first, and a
// stage can be stopped as soon as its output passes the capture limit (compression bombs).
import { Transform, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { Decompress } from 'fzstd';

/**
 * Emitted by a decompressor that stopped itself because its output passed the limit (argument
 * 'limit') or grew too far past its input (argument 'ratio', a compression bomb). It then ends
 * quietly (no error), having pushed the bytes up to there.
 */
export const OUTPUT_LIMIT_EVENT = 'output-limit';
export type OutputLimitReason = 'limit' | 'ratio';

/** Thrown from fzstd's block callback to break out of its decoding loop. */
const STOP = Symbol('stop');

export interface DecompressorOptions {
  /**
   * Output bytes after which the stage stops. Only the zstd stage enforces it itself (fzstd
   * decodes synchronously); the zlib stages are asynchronous and are stopped by their consumer.
   */
  maxOutputBytes: number;
  /** Past `floorBytes` of output, more than `ratio` times the input consumed stops the stage (zstd only, as above). */
  bomb?: { ratio: number; floorBytes: number };
}

/** Input bytes a stage has consumed (zlib counts them as it goes; the others as they are given). */
export function consumedBytes(stage: Transform): number | undefined {
  const n = (stage as Transform & { bytesWritten?: unknown }).bytesWritten;
  return typeof n === 'number' ? n : undefined;
}

/** Content-codings we can undo, by their normalized name. */
export function isSupportedEncoding(coding: string): boolean {
  return ['gzip', 'x-gzip', 'deflate', 'br', 'zstd'].includes(coding);
}

export function createDecompressor(coding: string, options: DecompressorOptions): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip': // RFC 9110 §8.4.1.3: a recipient should treat x-gzip as gzip.
      return createGunzip();
    case 'deflate':
      return new InflateAuto();
    case 'br':
      return createBrotliDecompress();
    case 'zstd':
      return new ZstdDecompress(options.maxOutputBytes, options.bomb);
    default:
      throw new Error(`unsupported content-encoding "${coding}"`);
  }
}

/**
 * "deflate" means the zlib format (RFC 9110 §8.4.1.2, RFC 1950), but some servers send a raw
 * deflate stream (RFC 1951). Like browsers, look at the first two bytes: a zlib header has
 * compression method 8, a window of at most 32 KiB, and a check value that makes the pair a
 * multiple of 31.
 */
class InflateAuto extends Transform {
  private inner: Transform | undefined;
  private head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.inner) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 2) return callback();
      chunk = this.head;
      this.head = Buffer.alloc(0);
      this.start(chunk);
    }
    this.forward(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.inner) {
      if (this.head.length === 0) return callback();
      this.start(this.head);
      this.inner!.write(this.head);
    }
    this.inner!.once('end', () => callback());
    this.inner!.end();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.inner?.destroy();
    callback(error);
  }

  /** What the inner inflater consumed, as zlib streams count it. */
  get bytesWritten(): number {
    return this.inner ? consumedBytes(this.inner) ?? 0 : 0;
  }

  private start(first: Buffer): void {
    const zlibHeader = (first[0] & 0x0f) === 8 && first[0] >> 4 <= 7 && ((first[0] << 8) | first[1]) % 31 === 0;
    const inner = zlibHeader ? createInflate() : createInflateRaw();
    inner.on('data', (data: Buffer) => this.push(data));
    inner.on('error', (error) => this.destroy(error));
    this.inner = inner;
  }

  private forward(chunk: Buffer, callback: TransformCallback): void {
    if (this.inner!.write(chunk)) callback();
    else this.inner!.once('drain', () => callback());
  }
}

/**
 * zstd (RFC 8878) through fzstd, since Node 20 has no zstd. fzstd hands out one block (at most
 * 128 KiB) at a time, so throwing from its callback stops a bomb with bounded memory.
 */
class ZstdDecompress extends Transform {
  private readonly decoder: Decompress;
  private produced = 0;
  private headerChecked = false;
  private headerBytes: Buffer[] = [];
  private readonly maxWindow: number;
  private stopped = false;
  /** Input given to fzstd, which decodes each push whole before returning. */
  bytesWritten = 0;

  constructor(private readonly maxOutputBytes: number, private readonly bomb?: { ratio: number; floorBytes: number }) {
    super();
    // Reference decoders refuse windows beyond a limit too (zstd's default is 128 MiB); fzstd
    // would allocate whatever window the frame header asks for, before producing any output.
    this.maxWindow = Math.max(maxOutputBytes, 8 * 1024 * 1024);
    this.decoder = new Decompress((data) => this.onBlock(data));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    try {
      if (!this.headerChecked) {
        this.headerBytes.push(chunk);
        const head = Buffer.concat(this.headerBytes);
        if (head.length < ZSTD_MAX_FRAME_HEADER) return callback();
        this.checkHeader(head);
        chunk = head;
      }
      this.bytesWritten += chunk.length;
      this.decoder.push(chunk);
      callback();
    } catch (error) {
      if (error === STOP) return callback();
      callback(normalizeZstdError(error));
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.stopped) return callback();
    try {
      if (!this.headerChecked) {
        const head = Buffer.concat(this.headerBytes);
        this.checkHeader(head);
        this.bytesWritten += head.length;
        if (head.length > 0) this.decoder.push(head);
      }
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (error) {
      if (error === STOP) return callback();
      callback(normalizeZstdError(error));
    }
  }

  private onBlock(data: Uint8Array): void {
    if (data.length === 0) return;
    const room = this.maxOutputBytes - this.produced;
    // Copy: fzstd may reuse the memory behind a block for its window.
    if (room > 0) this.push(Buffer.from(data.subarray(0, Math.min(room, data.length))));
    this.produced += data.length;
    const reason: OutputLimitReason | undefined = this.produced > this.maxOutputBytes ? 'limit'
      : this.bomb && this.produced > this.bomb.floorBytes && this.produced > this.bomb.ratio * this.bytesWritten ? 'ratio' : undefined;
    if (reason) {
      this.stopped = true;
      this.emit(OUTPUT_LIMIT_EVENT, reason);
      throw STOP;
    }
  }

  private checkHeader(head: Buffer): void {
    this.headerChecked = true;
    this.headerBytes = [];
    const window = zstdWindowSize(head);
    if (window !== undefined && window > this.maxWindow) {
      throw new Error(`zstd frame needs a ${window}-byte window, more than the ${this.maxWindow}-byte limit`);
    }
  }
}

const ZSTD_MAX_FRAME_HEADER = 18;

/** The window a zstd frame asks for (RFC 8878 §3.1.1.1), or undefined when the header is not a zstd frame's. */
function zstdWindowSize(head: Buffer): number | undefined {
  if (head.length < 6 || head.readUInt32LE(0) !== 0xfd2fb528) return undefined;
  const descriptor = head[4];
  const singleSegment = (descriptor >> 5) & 1;
  if (!singleSegment) {
    const exponent = head[5] >> 3;
    const base = 2 ** (10 + exponent);
    return base + (base / 8) * (head[5] & 7);
  }
  // Single segment: the window is the content size, which follows the dictionary id.
  const dictBytes = [0, 1, 2, 4][descriptor & 3];
  const sizeBytes = [1, 2, 4, 8][descriptor >> 6];
  const at = 5 + dictBytes;
  if (head.length < at + sizeBytes) return undefined;
  let size = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + head[at + i];
  return sizeBytes === 2 ? size + 256 : size;
}

function normalizeZstdError(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  // fzstd's codes (ZstdErrorCode): 5 is UnexpectedEOF, the truncated-body case.
  if ((e as { code?: unknown }).code === 5) return new Error('unexpected end of file');
  return e;
}
