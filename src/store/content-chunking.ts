// Content-defined chunking (FastCDC: a gear rolling hash with normalized chunking).
// Boundaries depend only on the bytes around them, so when an agent resends its history with a
// new turn appended (or a small edit near the end), every chunk before the edit is cut exactly
// as before and deduplicates; only the chunks around the edit are new.
import { createHash } from 'node:crypto';

export interface ChunkingParameters {
  minSize: number;
  /** A power of two: the expected chunk size. */
  averageSize: number;
  maxSize: number;
}

/**
 * 1 KiB / 4 KiB / 32 KiB. Every resent request re-stores about one average chunk around its
 * edit, so smaller chunks keep a 200-request session near 1x its largest request (8 KiB gives
 * ~1.35x, 16 KiB ~2.4x on the synthetic session); smaller still compress worse. Changing these
 * only costs dedup against bodies stored earlier (manifests list chunks explicitly), never
 * correctness.
 */
export const DEFAULT_CHUNKING: ChunkingParameters = { minSize: 1024, averageSize: 4096, maxSize: 32768 };

// A fixed gear table derived from sha256 so it is the same in every process and version.
const GEAR = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`llm-capture gear ${i}`).digest().readInt32LE(0);
  }
  return table;
})();

/** The `bits` highest bits set: gear hash bit k depends on the last k+1 bytes, so the high bits see a 32-byte window. */
function highMask(bits: number): number {
  return bits <= 0 ? 0 : (~0 << (32 - bits)) | 0;
}

/**
 * Returns the end offsets of the chunks of `data` (the last one is `data.length`).
 * Normalized chunking: a stricter mask before the average size and a looser one after it
 * concentrates chunk sizes around the average.
 */
export function chunkBoundaries(data: Uint8Array, params: ChunkingParameters = DEFAULT_CHUNKING): number[] {
  const ends: number[] = [];
  for (let start = 0; start < data.length; ) {
    start = chunkEnd(data, start, params);
    ends.push(start);
  }
  return ends;
}

/** The end offset of the chunk that starts at `start`. */
export function chunkEnd(data: Uint8Array, start: number, params: ChunkingParameters = DEFAULT_CHUNKING): number {
  const { minSize, averageSize, maxSize } = params;
  const remaining = data.length - start;
  if (remaining <= minSize) return data.length;
  const bits = Math.round(Math.log2(averageSize));
  const maskStrict = highMask(bits + 2);
  const maskLoose = highMask(bits - 2);
  const limit = start + Math.min(remaining, maxSize);
  const normal = start + Math.min(remaining, averageSize);
  let fp = 0;
  let i = start + minSize;
  for (; i < normal; i++) {
    fp = ((fp << 1) + GEAR[data[i]]) | 0;
    if ((fp & maskStrict) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    fp = ((fp << 1) + GEAR[data[i]]) | 0;
    if ((fp & maskLoose) === 0) return i + 1;
  }
  return limit;
}
