// Requests of bounded size that end only where the completion time changes (decision 72).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpanRecord } from '../../src/telemetry/genai-spans';
import { spanBatches } from '../../src/telemetry/span-batches';

const span = (readyAt: number, text = ''): SpanRecord => ({
  traceId: 't', spanId: `${readyAt}-${text.length}`, name: 'chat', kind: 'client', startMs: 0, endMs: 0, attributes: { text }, status: { code: 'unset' }, readyAt, client: 'c',
});
const times = (batches: SpanRecord[][]) => batches.map((b) => b.map((s) => s.readyAt));

describe('span batches', () => {
  it('cuts at the span limit, never inside a run of one completion time', () => {
    const spans = [1, 2, 3, 3, 3, 4, 5].map((t) => span(t));
    assert.deepEqual(times([...spanBatches(spans, { maxSpans: 3, maxChars: Infinity })]), [[1, 2], [3, 3, 3], [4, 5]]);
    assert.deepEqual(times([...spanBatches(spans, { maxSpans: 2, maxChars: Infinity })]), [[1, 2], [3, 3, 3], [4, 5]], 'one instant over the limit goes whole');
  });

  it('cuts by the size of the attributes', () => {
    const spans = [1, 2, 3, 4].map((t) => span(t, 'x'.repeat(1000)));
    assert.deepEqual(times([...spanBatches(spans, { maxSpans: 100, maxChars: 2500 })]), [[1, 2], [3, 4]]);
  });

  it('keeps every span once, in order', () => {
    const spans = Array.from({ length: 2000 }, (_, i) => span(Math.floor(i / 7)));
    const batches = [...spanBatches(spans, { maxSpans: 512, maxChars: Infinity })];
    assert.deepEqual(batches.flat(), spans);
    for (let i = 1; i < batches.length; i++) assert.notEqual(batches[i - 1]!.at(-1)!.readyAt, batches[i]![0]!.readyAt);
    assert.ok(batches.every((b) => b.length <= 512));
  });
});
