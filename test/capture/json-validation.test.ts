// The capture's JSON check reads the verdict from the bytes (docs/decisions.md, decision 90). It
// must agree with JSON.parse on every input, or a broken body would go unreported (or a good one
// be reported): checked on hand-made cases, on thousands of mutations of valid documents, and on
// hostile shapes. And the message for an invalid body is still JSON.parse's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finishBody } from '../../src/capture/body-finishing';
import { isValidJson } from '../../src/capture/json-validation';
import { Redactor } from '../../src/capture/redaction';
import { seededRandom } from '../store/fixtures/synthetic-session';

const parses = (b: Buffer): boolean => {
  try {
    JSON.parse(b.toString('latin1'));
    return true;
  } catch {
    return false;
  }
};

const agree = (b: Buffer) => assert.equal(isValidJson(b), parses(b), `verdict on ${JSON.stringify(b.toString('latin1'))}`);

const SEEDS = [
  '{"a":[1,2.5e-3,-0,true,false,null,"x\\u00e9\\n"],"b":{}}', '[]', '{}', '"s"', '0', '-1.2E+5', '1e9', '[{"k":"v","n":[[],[{}]]}]',
  ' \t\n\r{"a" : 1 } ', '"\\"\\\\\\/\\b\\f\\n\\r\\t\\uD83D\\ude00"', '{"é":"ü","k":"\u00ff"}',
];

test('hand-made cases: the same verdict as JSON.parse', () => {
  for (const s of SEEDS) assert.ok(isValidJson(Buffer.from(s, 'latin1')), s);
  const invalid = ['', ' ', '{', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', "{'a':1}", '01', '1.', '.5', '-', '1e', '+1', 'tru', 'nul',
    'NaN', '"a\nb"', '"\\x41"', '"\\u12g4"', '"abc', '[1 2]', '{"a":1}}', '[]]', '{}x', '\u00a0{}', '"\t"', '1 2'];
  for (const s of invalid) assert.ok(!isValidJson(Buffer.from(s, 'latin1')), s);
  for (const s of [...SEEDS, ...invalid]) agree(Buffer.from(s, 'latin1'));
});

test('20,000 mutations of valid documents: the same verdict as JSON.parse', () => {
  const random = seededRandom(7);
  const alphabet = Buffer.from('{}[]",:.-+eE0123456789 \t\n\r\\/ubfnrtaxlsTF\u0001\u00ff', 'latin1');
  let valid = 0;
  for (let round = 0; round < 20_000; round++) {
    let b = Buffer.from(SEEDS[round % SEEDS.length], 'latin1');
    for (let e = 0; e <= round % 3; e++) {
      const at = Math.floor(random() * (b.length + 1));
      const ch = alphabet[Math.floor(random() * alphabet.length)];
      const kind = random();
      if (kind < 1 / 3) b = Buffer.concat([b.subarray(0, at), Buffer.from([ch]), b.subarray(at)]);
      else if (kind < 2 / 3) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      else if (at < b.length) (b = Buffer.from(b))[at] = ch;
    }
    agree(b);
    if (parses(b)) valid++;
  }
  assert.ok(valid > 1000 && valid < 19_000, `${valid} of the mutations are valid JSON: both verdicts were tried`);
});

test('hostile shapes: deep nesting, long strings and numbers, no call stack spent', () => {
  for (const b of [
    Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), Buffer.from(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`),
    Buffer.from(`${'['.repeat(200_000)}${']'.repeat(199_999)}`), Buffer.from(`"${'x'.repeat(1_000_000)}"`),
    Buffer.from(`${'9'.repeat(100_000)}.5e-${'1'.repeat(1000)}`), Buffer.from(`["${'\\\\'.repeat(50_000)}"]`),
    // One long string with an escape every 300 bytes: each search for its end starts where the last one stopped.
    Buffer.from(`["${`${'x'.repeat(298)}\\n`.repeat(10_000)}"]`),
  ]) agree(b);
});

/** `doc` (latin1) at each offset of a larger buffer, so that its words start at each alignment. */
function agreeAtEveryAlignment(doc: string): void {
  const bytes = Buffer.from(doc, 'latin1');
  for (let offset = 0; offset < 4; offset++) {
    const host = Buffer.alloc(bytes.length + 8);
    const view = host.subarray(offset, offset + bytes.length);
    bytes.copy(view);
    agree(view);
  }
}

test('long strings, read four bytes at a time: a quote, backslash or control byte is seen at every place and alignment', () => {
  const specials = ['"', '\\', '\\"', '\\u00e9', '\\x', '\u0000', '\u001f', '\n', ' ', '!', '#', '[', '\u00e9', '\u00ff'];
  for (const special of specials) {
    for (let at = 0; at < 70; at++) {
      agreeAtEveryAlignment(`{"k":"${'a'.repeat(at)}${special}${'b'.repeat(80 - at)}","z":1}`);
    }
  }
});

test('very long strings, searched natively past their first bytes: every special seen at every place and alignment', () => {
  const specials = ['"', '\\', '\\"', '\\u00e9', '\\x', '\\u12', '\u0000', '\u001f', '\n', '\u007f', '\u00ff'];
  const long = (n: number, c: string) => c.repeat(n);
  const docs: string[] = [];
  for (const special of specials) {
    for (let at = 240; at < 420; at++) docs.push(`{"k":"${long(at, 'a')}${special}${long(430 - at, 'b')}","z":1}`);
    // After an escape, the same long string goes on; a control byte further on is still seen.
    docs.push(`["${long(300, 'a')}\\n${long(300, 'b')}${special}${long(300, 'c')}"]`);
    // A long string with no backslash, then another whose backslash was already found from the first.
    docs.push(`["${long(400, 'a')}", "${long(20, 'b')}${special}${long(400, 'c')}"]`);
    // Cut off inside a long string, right after the special.
    docs.push(`["${long(400, 'a')}${special}`);
  }
  for (const doc of docs) agreeAtEveryAlignment(doc);
});

test('a large body: the problem is found from its bytes, with the message JSON.parse gives', () => {
  const good = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'é'.repeat(100_000) }] }));
  const broken = Buffer.concat([good.subarray(0, good.length - 1), Buffer.from(',}')]);
  const problems: string[] = [];
  const body = (data: Buffer) => ({ body: { data, wireSize: data.length, encoding: '', decoded: true, truncated: false } });
  finishBody(body(good), 'application/json', 'request', new Redactor(), problems);
  assert.deepEqual(problems, []);
  finishBody(body(broken), 'application/json', 'request', new Redactor(), problems);
  let expected = '';
  try {
    JSON.parse(broken.toString('utf8'));
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.deepEqual(problems, [`request body is not valid JSON: ${expected}`]);
  // A UTF-8 byte order mark before the document is allowed, as before.
  finishBody(body(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good])), 'application/json', 'request', new Redactor(), problems);
  assert.equal(problems.length, 1);
});
