// The journal's framing: a record cut short by a crash is a torn tail (dropped silently), a bad
// record with data after it is damage; operations survive encoding with their binary parts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeHeader, encodeHeader, encodeRecord, parseRecords } from '../../src/store/journal';
import { decodeOperation, encodeOperation, type Operation } from '../../src/store/operations';

const records = [encodeRecord(1, Buffer.from('first')), encodeRecord(2, Buffer.from('second record')), encodeRecord(3, Buffer.alloc(1000, 7))];
const all = Buffer.concat(records);

describe('journal framing', () => {
  test('reads back every record with its LSN', () => {
    const p = parseRecords(all, 0);
    assert.equal(p.problem, undefined);
    assert.deepEqual(p.records.map((r) => r.lsn), [1, 2, 3]);
    assert.equal(p.records[1].payload.toString(), 'second record');
    assert.equal(p.validEnd, all.length);
  });

  test('a record cut anywhere is a torn tail; the records before it survive', () => {
    for (let cut = records[0].length + records[1].length + 1; cut < all.length; cut += 97) {
      const p = parseRecords(all.subarray(0, cut), 0);
      assert.equal(p.problem, 'torn', `cut at ${cut}`);
      assert.equal(p.records.length, 2);
      assert.equal(p.validEnd, records[0].length + records[1].length);
    }
  });

  test('zeros after the last record (a file system after a power cut) are a torn tail', () => {
    const p = parseRecords(Buffer.concat([all, Buffer.alloc(4096)]), 0);
    assert.equal(p.problem, 'torn');
    assert.equal(p.records.length, 3);
  });

  test('a damaged record followed by data is corruption', () => {
    const damaged = Buffer.from(all);
    damaged[records[0].length + 20] ^= 0xff;
    const p = parseRecords(damaged, 0);
    assert.equal(p.problem, 'corrupt');
    assert.equal(p.records.length, 1);
  });

  test('damage that hits a length field, with records after it, is corruption, not a torn tail', () => {
    const damaged = Buffer.from(all);
    // The second record's length now runs past the end of the file, as a torn last record's does.
    damaged.fill(0x77, records[0].length, records[0].length + 4);
    const p = parseRecords(damaged, 0);
    assert.equal(p.problem, 'corrupt');
    assert.equal(p.records.length, 1);
    // With nothing intact after it, the same length is a torn tail.
    const last = Buffer.concat([records[0], Buffer.from(damaged.subarray(records[0].length, records[0].length + records[1].length))]);
    assert.equal(parseRecords(last, 0).problem, 'torn');
  });

  test('header round trip', () => {
    const h = { dbId: '0b8f8a9e-3c1d-4a52-9f0e-3e1f2d3c4b5a', baseLsn: 2 ** 40 + 3 };
    assert.deepEqual(decodeHeader(encodeHeader(h)), h);
    assert.equal(decodeHeader(Buffer.alloc(32)), undefined);
  });

  test('operations keep their buffers and drop undefined fields', () => {
    const op: Operation = {
      type: 'ws',
      row: { exchangeId: 4, seq: 1, time: 1.5, direction: 'server-to-client', opcode: 'binary', size: 3, data: Buffer.from([0, 255, 7]) },
      bodies: [{ id: 9, sha256: Buffer.alloc(32, 1), size: 5, manifest: Buffer.from([2]), chunks: [{ id: 1, sha256: Buffer.alloc(32, 2), codec: 0, rawSize: 5, data: Buffer.from('hello') }] }],
    };
    const back = decodeOperation(encodeOperation(op));
    assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(op)));
    assert.ok(Buffer.isBuffer((back as Extract<Operation, { type: 'ws' }>).row.data));
    const withUndefined = decodeOperation(encodeOperation({ type: 'sse', exchangeId: 1, events: [{ seq: 0, time: 1, event: undefined, data: 'x' }] }));
    assert.deepEqual(withUndefined, { type: 'sse', exchangeId: 1, events: [{ seq: 0, time: 1, data: 'x' }] });
  });

  test('an operation without new bodies reads back as written, less its undefined fields; one with new bodies keeps their Buffers', () => {
    const sse: Operation = { type: 'sse', exchangeId: 3, events: [{ seq: 0, time: 1.25, event: 'message', data: '{"a":"é\\u0000"}', id: undefined, retry: 5 }], bodies: [] };
    assert.deepEqual(decodeOperation(encodeOperation(sse)),
      { type: 'sse', exchangeId: 3, events: [{ seq: 0, time: 1.25, event: 'message', data: '{"a":"é\\u0000"}', retry: 5 }], bodies: [] });
    const packed: Operation = { type: 'sse', exchangeId: 3, events: [], pack: { bodyId: 7, events: 2 }, relocations: [{ id: 1, segment: 2, offset: 3, storedSize: 4 }] };
    assert.deepEqual(decodeOperation(encodeOperation(packed)), packed);
    const requestBody = { bodyId: 4, size: 2, wireSize: 2, encoding: '', decoded: true, truncated: false };
    const row = { id: 2, connectionId: 1, startedAt: 1, method: 'POST', url: 'https://h/', httpVersion: '1.1', kind: 'http' as const, requestHeaders: [['a', 'b']] as [string, string][], errors: [] };
    assert.deepEqual(decodeOperation(encodeOperation({ type: 'exchange', row: { ...row, endedAt: undefined, requestBody }, bodies: [] })),
      { type: 'exchange', row: { ...row, requestBody }, bodies: [] });
    assert.deepEqual(decodeOperation(encodeOperation({ type: 'delete', exchangeIds: [1, 2], connectionIds: [] })), { type: 'delete', exchangeIds: [1, 2], connectionIds: [] });
    // The same SSE operation with a new body: its hash and manifest come back as Buffers, byte for byte.
    const sha256 = Buffer.alloc(32, 5);
    const withBody = decodeOperation(encodeOperation({ ...packed, bodies: [{ id: 7, sha256, size: 3, manifest: Buffer.from([2]), chunks: [] }] }));
    assert.ok(withBody.type === 'sse' && Buffer.isBuffer(withBody.bodies?.[0].sha256) && withBody.bodies[0].sha256.equals(sha256));
  });
});
