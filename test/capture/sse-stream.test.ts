// The WHATWG event-stream rules, fed in every chunking, and bad input written down as errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseStream, type SseEvent } from '../../src/capture/sse-stream';

function parse(text: string | Buffer, chunkSize = Infinity): { events: SseEvent[]; errors: string[]; perPush: number[] } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const stream = new SseStream();
  const events: SseEvent[] = [];
  const perPush: number[] = [];
  const step = Number.isFinite(chunkSize) ? chunkSize : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) {
    const got = stream.push(bytes.subarray(i, i + step));
    perPush.push(got.length);
    events.push(...got);
  }
  stream.end();
  return { events, errors: stream.errors, perPush };
}

const SAMPLE = 'event: a\ndata: 1\n\n: a comment\nevent: b\ndata: 2\ndata: 3\nid: x7\n\nretry: 1500\ndata: 4\n\n';
const EXPECTED: SseEvent[] = [
  { event: 'a', data: '1' },
  { event: 'b', data: '2\n3', id: 'x7' },
  { data: '4', retry: 1500 },
];

test('LF, CRLF and CR line ends give the same events, in any chunking', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    for (const chunkSize of [1, 2, 3, 5, Infinity]) {
      const { events, errors } = parse(SAMPLE.replace(/\n/g, eol), chunkSize);
      assert.deepEqual(events, EXPECTED, `eol ${JSON.stringify(eol)}, chunks of ${chunkSize}`);
      assert.deepEqual(errors, []);
    }
  }
});

test('each event is handed back by the push that completes it', () => {
  const { perPush } = parse('data: 1\n\ndata: 2\n\n', 9);
  // "data: 1\n\n" is 9 bytes: the first push completes one event, the second the other.
  assert.deepEqual(perPush, [1, 1]);
});

test('a leading BOM is dropped, also when split; later BOMs stay data', () => {
  const text = '\uFEFFdata: x\n\ndata: \uFEFFy\n\n';
  for (const chunkSize of [1, 2, Infinity]) {
    assert.deepEqual(parse(text, chunkSize).events, [{ data: 'x' }, { data: '\uFEFFy' }]);
  }
  // Only the first: a second BOM right after it is the start of a line (a field named "\uFEFFdata").
  for (const chunkSize of [1, 3, Infinity]) {
    assert.deepEqual(parse('\uFEFF\uFEFFdata: x\n\ndata: y\n\n', chunkSize).events, [{ data: 'y' }]);
  }
});

test('multi-byte UTF-8 split across chunks stays intact', () => {
  const { events, errors } = parse('data: héllo ✓ 🎉\n\n', 1);
  assert.deepEqual(events, [{ data: 'héllo ✓ 🎉' }]);
  assert.deepEqual(errors, []);
});

test('field rules: no space after the colon, empty data, a field without colon, data-less blocks', () => {
  const { events, errors } = parse('data:no-space\n\ndata\n\nid: only-id\n\nevent: e\ndata:  two spaces\n\n');
  assert.deepEqual(events, [{ data: 'no-space' }, { data: '' }, { event: 'e', data: ' two spaces' }]);
  assert.deepEqual(errors, []);
});

test('garbage lines are written down and skipped; the events around them survive', () => {
  const { events, errors } = parse('data: 1\n\nthis is garbage\nHTTP/1.1 500 oops\ndata: 2\n\nretry: soon\n\n');
  assert.deepEqual(events.map((e) => e.data), ['1', '2']);
  assert.equal(errors.length, 3);
  assert.equal(errors[0], 'SSE: unknown field "this is garbage" in line "this is garbage"');
  assert.equal(errors[2], 'SSE: invalid retry value "soon"');
});

test('no final newline: the cut event is not dispatched (WHATWG) and both problems are written down', () => {
  const { events, errors } = parse('data: 1\n\ndata: {"partial":');
  assert.deepEqual(events.map((e) => e.data), ['1']);
  assert.deepEqual(errors, [
    'SSE stream does not end with a newline; its last line was incomplete',
    'SSE stream ended inside an event (no blank line after it); the event was not dispatched: "{\\"partial\\":"',
  ]);
});

test('an event without its blank line at the end is noted, a clean end is not', () => {
  assert.match(parse('data: 1\n').errors.join(), /ended inside an event/);
  assert.deepEqual(parse('data: 1\n\n').errors, []);
  assert.deepEqual(parse('data: 1\r\n\r\n').errors, []);
  assert.deepEqual(parse('data: 1\r\r', 1).errors, []);
  assert.deepEqual(parse(': keep-alive\n').errors, []);
});

test('binary junk is reported (bounded), never thrown, and a later valid event still parses', () => {
  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
  const { events, errors } = parse(Buffer.concat([junk, Buffer.from('\n\ndata: ok\n\n')]), 100);
  assert.deepEqual(events.at(-1), { data: 'ok' });
  assert.ok(errors.some((e) => e.includes('not valid UTF-8')));
  assert.ok(errors.length <= 21, `errors are bounded (${errors.length})`);
  assert.match(errors.at(-1)!, /^… and \d+ more SSE errors$/);
});

test('a line longer than the buffer limit stops parsing with an error instead of growing', () => {
  const stream = new SseStream({ maxBufferChars: 1000 });
  stream.push(Buffer.from(`data: ${'x'.repeat(5000)}`));
  assert.deepEqual(stream.push(Buffer.from('\n\ndata: after\n\n')), []);
  stream.end();
  assert.match(stream.errors[0], /^SSE parsing stopped/);
});
