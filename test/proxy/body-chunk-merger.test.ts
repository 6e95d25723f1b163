// The forwarding thread's body chunks as the capture thread gets them: the chunks of one body within
// a batch arrive as one event, in order, as copies; an event of the same exchange in between, or an
// event stream's chunks, keep them apart (docs/decisions.md, decision 77).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BodyChunkMerger } from '../../src/proxy/body-chunk-merger';
import type { BodyChunk } from '../../src/proxy/tap';

const chunk = (exchangeId: number, text: string, time = 1, type: BodyChunk['type'] = 'request-body'): BodyChunk =>
  ({ type, exchangeId, time, chunk: Buffer.from(text) });

describe('body chunk merger', () => {
  test('the chunks of one body in a batch become one event with every byte in order and the last time', () => {
    const m = new BodyChunkMerger();
    const first = m.add(chunk(1, 'ab', 10), true);
    assert.ok(first);
    assert.equal(m.add(chunk(1, 'cd', 11), true), undefined);
    assert.equal(m.add(chunk(1, 'e'.repeat(200_000), 12), true), undefined);
    const buffers = m.seal();
    assert.equal(first.chunk.toString(), `abcd${'e'.repeat(200_000)}`);
    assert.equal(first.time, 12);
    assert.equal(buffers.length, 1);
    assert.equal(buffers[0], first.chunk.buffer);
  });

  test('a body larger than a merge buffer goes as several events, every byte once and in order', () => {
    const m = new BodyChunkMerger();
    const events = [];
    let sent = '';
    for (let i = 0; i < 100; i++) {
      const text = String.fromCharCode(97 + (i % 26)).repeat(16_384);
      sent += text;
      const e = m.add(chunk(1, text), true);
      if (e) events.push(e);
    }
    m.seal();
    assert.ok(events.length >= 7 && events.length <= 8, `${events.length} events for 1.6 MB`);
    assert.equal(events.map((e) => e.chunk.toString()).join(''), sent);
  });

  test('interleaved bodies merge apart; the request and the answer of one exchange never merge', () => {
    const m = new BodyChunkMerger();
    const a = m.add(chunk(1, 'a1'), true);
    const b = m.add(chunk(2, 'b1'), true);
    assert.equal(m.add(chunk(1, 'a2'), true), undefined);
    assert.equal(m.add(chunk(2, 'b2'), true), undefined);
    const answer = m.add(chunk(1, 'r1', 1, 'response-body'), true);
    assert.ok(a && b && answer);
    m.seal();
    assert.deepEqual([a.chunk.toString(), b.chunk.toString(), answer.chunk.toString()], ['a1a2', 'b1b2', 'r1']);
  });

  test('after another event of the exchange, or unmerged, a chunk is an event of its own', () => {
    const m = new BodyChunkMerger();
    const a = m.add(chunk(1, 'x'), true);
    m.interrupt(1);
    const b = m.add(chunk(1, 'y'), true);
    const c = m.add(chunk(1, 'z'), false);
    const d = m.add(chunk(1, 'w'), true);
    assert.ok(a && b && c && d);
    m.seal();
    assert.deepEqual([a, b, c, d].map((e) => e.chunk.toString()), ['x', 'y', 'z', 'w']);
  });

  test('bytes are copied when added: the socket may reuse its buffer', () => {
    const m = new BodyChunkMerger();
    const source = Buffer.from('keep');
    const e = m.add({ type: 'request-body', exchangeId: 1, time: 1, chunk: source }, true)!;
    source.write('lost');
    m.seal();
    assert.equal(e.chunk.toString(), 'keep');
  });

  test('a merge that left its buffer mostly empty goes as an exact copy; a sealed batch starts afresh', () => {
    const m = new BodyChunkMerger();
    const e = m.add(chunk(1, 'small'), true)!;
    m.add(chunk(1, 'er'), true);
    const [buffer] = m.seal();
    assert.equal(e.chunk.toString(), 'smaller');
    assert.equal(buffer.byteLength, 7);
    const next = m.add(chunk(1, 'next'), true);
    assert.ok(next, 'a new batch does not join the sealed one');
    assert.equal(m.seal().length, 1);
  });
});
