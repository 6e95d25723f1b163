// Requests of bounded size: at most 512 spans and about 4 MiB of attribute text each (collectors
// refuse larger bodies; the Collector's HTTP receiver, for one, has a request size limit). A batch
// ends only where the completion time changes, so the live export's cursor can stop between two.
import type { SpanRecord } from './genai-spans';

export interface BatchLimits {
  maxSpans: number;
  maxChars: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxSpans: 512, maxChars: 4 * 1024 * 1024 };

/** `spans` sorted by `readyAt`, cut into requests. One instant that holds more than a request goes whole. */
export function* spanBatches(spans: readonly SpanRecord[], limits: BatchLimits = DEFAULT_BATCH_LIMITS): Generator<SpanRecord[]> {
  let batch: SpanRecord[] = [];
  let chars = 0;
  let lastCut = 0;
  for (const span of spans) {
    const size = spanChars(span);
    const full = batch.length >= limits.maxSpans || chars + size > limits.maxChars;
    if (full && batch.length > 0) {
      // Cut before the run of spans that share the last completion time, unless that run is the whole batch.
      const cut = span.readyAt === batch[batch.length - 1]!.readyAt ? lastCut : batch.length;
      if (cut > 0) {
        yield batch.slice(0, cut);
        batch = batch.slice(cut);
        chars = batch.reduce((n, s) => n + spanChars(s), 0);
        lastCut = 0;
      }
    }
    if (batch.length === 0 || batch[batch.length - 1]!.readyAt !== span.readyAt) lastCut = batch.length;
    batch.push(span);
    chars += size;
  }
  if (batch.length > 0) yield batch;
}

function spanChars(span: SpanRecord): number {
  let n = 200;
  for (const value of Object.values(span.attributes)) n += typeof value === 'string' ? value.length : Array.isArray(value) ? value.join('').length : 8;
  return n;
}
