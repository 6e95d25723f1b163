// What the proxy thread posts to capture (src/proxy/event-batch.ts): consecutive body chunks of an
// exchange travel joined in one transferable buffer, each exchange's events keep their order, and
// an event stream's chunks stay apart with their own times (docs/decisions.md, decision 91).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { EventBatch } from '../../src/proxy/event-batch';
import type { BodyChunk, TapEvent } from '../../src/proxy/tap';

const body = (type: BodyChunk['type'], exchangeId: number, time: number, text: string): BodyChunk => ({ type, exchangeId, time, chunk: Buffer.from(text) });
const head = (exchangeId: number, contentType: string): TapEvent => ({
  type: 'response-head', exchangeId, time: 0, statusCode: 200, statusMessage: 'OK', rawHeaders: ['Content-Type', contentType],
});

/** Each event as a short line: type, exchange, time and, for a body, its text. */
function describeEvents(events: TapEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'request-body' || e.type === 'response-body') return `${e.type} ${e.exchangeId} @${e.time} ${e.chunk.toString()}`;
    return 'exchangeId' in e ? `${e.type} ${e.exchangeId}` : e.type;
  });
}

describe('the events the proxy thread posts to capture', () => {
  it("joins an exchange's consecutive chunks, also between other exchanges' events, and keeps the last chunk's time", () => {
    const batch = new EventBatch();
    batch.add(body('request-body', 1, 1, 'ab'));
    batch.add(body('request-body', 2, 2, 'xy'));
    batch.add(body('request-body', 1, 3, 'cd'));
    batch.add({ type: 'request-end', exchangeId: 2, time: 4 });
    batch.add(body('request-body', 1, 5, 'ef'));
    const { events, transfer } = batch.take();
    assert.deepEqual(describeEvents(events), ['request-body 1 @5 abcdef', 'request-body 2 @2 xy', 'request-end 2']);
    assert.equal(transfer.length, 2);
  });

  it("starts a new buffer after any other event of the same exchange, so the exchange's order is kept", () => {
    const batch = new EventBatch();
    batch.add(body('request-body', 1, 1, 'a'));
    batch.add(head(1, 'application/json'));
    batch.add(body('request-body', 1, 2, 'b'));
    batch.add(body('response-body', 1, 3, 'c'));
    batch.add(body('response-body', 1, 4, 'd'));
    batch.add({ type: 'exchange-end', exchangeId: 1, time: 5, outcome: 'complete' });
    assert.deepEqual(describeEvents(batch.take().events),
      ['request-body 1 @1 a', 'response-head 1', 'request-body 1 @2 b', 'response-body 1 @4 cd', 'exchange-end 1']);
  });

  it("keeps an event stream's chunks apart, each with its time, across batches until the exchange ends", () => {
    const batch = new EventBatch();
    batch.add(head(7, 'text/event-stream; charset=utf-8'));
    batch.add(body('response-body', 7, 1, 'data: 1\n\n'));
    batch.add(body('response-body', 7, 2, 'data: 2\n\n'));
    assert.deepEqual(describeEvents(batch.take().events), ['response-head 7', 'response-body 7 @1 data: 1\n\n', 'response-body 7 @2 data: 2\n\n']);
    batch.add(body('response-body', 7, 3, 'data: 3\n\n'));
    batch.add(body('response-body', 7, 4, 'data: 4\n\n'));
    batch.add({ type: 'exchange-end', exchangeId: 7, time: 5, outcome: 'complete' });
    assert.equal(batch.take().events.length, 3);
    // Once it ended, the id no longer counts as a stream.
    batch.add(body('response-body', 7, 6, 'x'));
    batch.add(body('response-body', 7, 7, 'y'));
    assert.deepEqual(describeEvents(batch.take().events), ['response-body 7 @7 xy']);
  });

  it('transfers buffers of its own: the chunks it was given stay readable, and the receiver gets every byte', () => {
    const batch = new EventBatch();
    const pool = Buffer.from('0123456789');
    batch.add({ type: 'request-body', exchangeId: 1, time: 1, chunk: pool.subarray(0, 4) });
    batch.add({ type: 'request-body', exchangeId: 1, time: 2, chunk: pool.subarray(4) });
    batch.add({ type: 'ws-message', exchangeId: 2, time: 3, direction: 'client-to-server', opcode: 'binary', data: pool.subarray(2, 5) });
    const { events, transfer } = batch.take();
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(events, transfer);
      // The sender's copies are detached by the transfer; the pool they came from is not.
      assert.ok(transfer.every((b) => b.byteLength === 0));
      assert.equal(pool.toString(), '0123456789');
      const received = receiveMessageOnPort(port2)?.message as TapEvent[];
      const [joined, message] = received;
      assert.ok(joined.type === 'request-body' && Buffer.from(joined.chunk).toString() === '0123456789');
      assert.ok(message.type === 'ws-message' && Buffer.from(message.data).toString() === '234');
    } finally {
      port1.close();
    }
  });

  it('starts empty again once taken', () => {
    const batch = new EventBatch();
    batch.add(body('request-body', 1, 1, 'a'));
    batch.take();
    assert.equal(batch.size, 0);
    batch.add(body('request-body', 1, 2, 'b'));
    assert.deepEqual(describeEvents(batch.take().events), ['request-body 1 @2 b']);
  });
});
