// The Raw calls tab's pure pieces: the notes under a body, an SSE event's head and copied text, and the timing line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyNote, formatBytes, sseEventNotes, sseEventText, timingLine, type RawBody, type RawSseEvent } from '../../src/shared/raw-call';

const body = (o: Partial<RawBody>): RawBody => ({
  text: '', format: 'json', size: 10, wireSize: 10, encoding: '', decoded: true, clipped: false, storedTruncated: false, ...o,
});

describe('raw call formatting', () => {
  test('byte sizes', () => {
    assert.equal(formatBytes(1), '1 byte');
    assert.equal(formatBytes(1000), '1,000 bytes');
    assert.equal(formatBytes(300 * 1024), '300.0 KB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
  });

  test('a body note says what was decoded and what was cut', () => {
    assert.equal(bodyNote(body({})), '10 bytes · JSON, re-indented');
    assert.equal(bodyNote(body({ format: 'text', size: 2048, wireSize: 300, encoding: 'gzip' })), '2.0 KB · text · gzip-decoded from 300 bytes');
    assert.equal(bodyNote(body({ format: 'binary', encoding: 'br', decoded: false })), '10 bytes · binary · br, not decoded');
    assert.equal(bodyNote(body({ size: 300_000, clipped: true, storedTruncated: true })),
      '293.0 KB · JSON, re-indented · truncated, 300,000 bytes total · cut by capture at its size limit');
  });

  test("an SSE event's head shows its id and retry, and its copy keeps them as SSE fields", () => {
    const e: RawSseEvent = { seq: 0, offsetMs: 12, event: 'message_start', id: 'e3', retry: 3000, data: '{}', clipped: false };
    assert.deepEqual(sseEventNotes(e), ['id e3', 'retry: 3000 ms']);
    assert.equal(sseEventText(e), 'event: message_start\nid: e3\nretry: 3000\ndata: {}');
    const plain: RawSseEvent = { seq: 1, offsetMs: 13, data: 'x', clipped: false };
    assert.deepEqual(sseEventNotes(plain), []);
    assert.equal(sseEventText(plain), 'data: x');
  });

  test('timings are offsets from the start', () => {
    assert.equal(timingLine({ requestEndMs: 3, firstByteMs: 340, endMs: 2100 }), 'request sent +3 ms · first byte +340 ms · ended +2.1 s');
    assert.equal(timingLine({ requestEndMs: 3 }), 'request sent +3 ms · not ended');
  });
});
