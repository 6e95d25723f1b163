// Content-encoding removal: every coding the clients use, in every chunking, with errors kept
// beside the raw bytes and a cap that stops compression bombs while inflating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { BodyDecoder, BOMB_FLOOR_BYTES, parseContentEncoding } from '../../src/capture/content-decoding';
import { split } from './capture-harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'capture');
const sse = readFileSync(join(FIXTURES, 'clients', 'claude', '02-tool-thinking', '01-response.sse'));

async function decode(wire: Buffer, contentEncoding: string, chunkSize = 997, maxBytes?: number) {
  const seen: Buffer[] = [];
  const decoder = new BodyDecoder({ contentEncoding, maxBytes, onData: (c) => seen.push(c) });
  for (const chunk of split(wire, chunkSize)) decoder.write(chunk);
  const result = await decoder.end();
  return { ...result, streamed: Buffer.concat(seen) };
}

test('parseContentEncoding lists codings in the order applied, ignoring identity and case', () => {
  assert.deepEqual(parseContentEncoding(' GZIP, br '), ['gzip', 'br']);
  assert.deepEqual(parseContentEncoding('identity'), []);
  assert.deepEqual(parseContentEncoding(undefined), []);
});

for (const [name, encode] of [
  ['gzip', gzipSync], ['x-gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync],
] as const) {
  test(`${name} response decodes to the exact bytes, chunk by chunk`, async () => {
    for (const chunkSize of [1, 7, 4096]) {
      const r = await decode(encode(sse), name, chunkSize);
      assert.equal(r.body.error, undefined);
      assert.equal(r.body.decoded, true);
      assert.equal(r.body.truncated, false);
      assert.ok(r.body.data.equals(sse));
      assert.ok(r.streamed.equals(sse), 'onData saw every decoded byte, in order');
      assert.equal(r.body.encoding, name);
    }
  });
}

test('deflate without the zlib wrapper (raw RFC 1951) decodes too', async () => {
  const r = await decode(deflateRawSync(sse), 'deflate', 3);
  assert.equal(r.body.error, undefined);
  assert.ok(r.body.data.equals(sse));
});

test('a zstd request body made by the zstd CLI decodes to the original JSON', async () => {
  const original = readFileSync(join(FIXTURES, 'codex-responses-request-body.json'));
  const wire = readFileSync(join(FIXTURES, 'codex-responses-request-body.json.zst'));
  for (const chunkSize of [1, 5, 100, 65536]) {
    const r = await decode(wire, 'zstd', chunkSize);
    assert.equal(r.body.error, undefined, `chunk size ${chunkSize}`);
    assert.ok(r.body.data.equals(original));
    assert.equal(r.body.wireSize, wire.length);
    assert.ok(r.streamed.equals(original));
  }
  JSON.parse(original.toString('utf8'));
});

test('two zstd frames back to back decode as one body', async () => {
  const wire = readFileSync(join(FIXTURES, 'codex-responses-request-body.json.zst'));
  const original = readFileSync(join(FIXTURES, 'codex-responses-request-body.json'));
  const r = await decode(Buffer.concat([wire, wire]), 'zstd', 512);
  assert.equal(r.body.error, undefined);
  assert.ok(r.body.data.equals(Buffer.concat([original, original])));
});

test('several codings ("gzip, br") are undone in reverse order', async () => {
  const wire = brotliCompressSync(gzipSync(sse));
  const r = await decode(wire, 'gzip, br', 100);
  assert.equal(r.body.error, undefined);
  assert.ok(r.body.data.equals(sse));
  assert.equal(r.body.encoding, 'gzip, br');
  const zstdThenGzip = gzipSync(readFileSync(join(FIXTURES, 'codex-responses-request-body.json.zst')));
  const r2 = await decode(zstdThenGzip, 'zstd, gzip');
  assert.ok(r2.body.data.equals(readFileSync(join(FIXTURES, 'codex-responses-request-body.json'))));
});

test('identity bodies are kept as they are', async () => {
  const r = await decode(sse, '', 10);
  assert.ok(r.body.data.equals(sse));
  assert.equal(r.body.encoding, '');
  assert.equal(r.body.decoded, true);
});

test('truncated gzip keeps the raw bytes with the error beside them', async () => {
  const wire = gzipSync(sse);
  const cut = wire.subarray(0, wire.length - 20);
  const r = await decode(cut, 'gzip', 50);
  assert.equal(r.body.decoded, false);
  assert.ok(r.body.data.equals(cut), 'raw bytes kept');
  assert.match(r.body.error ?? '', /^gzip decoding failed: unexpected end of file/);
  assert.ok(r.decodedPrefix && r.decodedPrefix.length > 0 && sse.subarray(0, r.decodedPrefix.length).equals(r.decodedPrefix));
});

test('garbage under a coding, truncated zstd and an unknown coding are errors, with raw bytes kept', async () => {
  const garbage = Buffer.from('this is not brotli or gzip at all');
  const gz = await decode(garbage, 'gzip');
  assert.match(gz.body.error ?? '', /^gzip decoding failed: incorrect header check/);
  assert.ok(gz.body.data.equals(garbage));
  const zst = readFileSync(join(FIXTURES, 'codex-responses-request-body.json.zst'));
  const cut = await decode(zst.subarray(0, 5000), 'zstd', 1000);
  assert.match(cut.body.error ?? '', /^zstd decoding failed: unexpected end of file/);
  assert.equal(cut.body.decoded, false);
  const unknown = await decode(garbage, 'compress');
  assert.equal(unknown.body.error, 'unsupported content-encoding "compress"');
  assert.ok(unknown.body.data.equals(garbage));
});

test('a compressed body decoding past the capture limit is stopped at the limit while inflating', async () => {
  const limit = 4 * 1024 * 1024;
  const plain = jsonText(10 * 1024 * 1024);
  const wire = gzipSync(plain);
  const r = await decode(wire, 'gzip', 1024, limit);
  assert.equal(r.body.truncated, true);
  assert.equal(r.body.decoded, true);
  assert.equal(r.body.data.length, limit);
  assert.ok(r.body.data.equals(plain.subarray(0, limit)));
  assert.equal(r.streamed.length, limit, 'no byte past the limit was handed on');
  assert.match(r.body.error ?? '', /larger than the 4194304-byte capture limit \(possible compression bomb\)/);
  assert.equal(r.body.wireSize, wire.length);
});

test('a zstd bomb (3 KB to 100 MiB) stops once it has decoded to 200 times its wire bytes, past 1 MiB', async () => {
  const wire = readFileSync(join(FIXTURES, 'zeros-100MiB.zst'));
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const decoder = new BodyDecoder({ contentEncoding: 'zstd', onData: () => { peak = Math.max(peak, process.memoryUsage().arrayBuffers - before); } });
  for (const chunk of split(wire, 256)) decoder.write(chunk);
  const r = await decoder.end();
  assert.equal(r.body.truncated, true);
  // fzstd hands out blocks of up to 128 KiB: it stops within one of the floor.
  assert.ok(r.body.data.length > BOMB_FLOOR_BYTES && r.body.data.length <= BOMB_FLOOR_BYTES + 128 * 1024, `kept ${r.body.data.length} bytes`);
  assert.ok(r.body.data.every((b) => b === 0));
  assert.match(r.body.error ?? '', /^decoded body grew past 200 times the compressed bytes it came from \(possible compression bomb\); decoding stopped there and the first \d+ decoded bytes were kept$/);
  assert.ok(peak < BOMB_FLOOR_BYTES + 32 * 1024 * 1024, `peak extra memory ${peak}`);
});

/** JSON-like text with varied words, about `bytes` long: gzip shrinks it a few times, far from the bomb ratio. */
function jsonText(bytes: number): Buffer {
  const words = Array.from({ length: 4000 }, (_, i) => `w${(i * 7919) % 100_003}`);
  const parts: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const part = `{"role":"user","content":"${words[(i * 31) % words.length]} ${words[(i * 17) % words.length]} ${i}"},`;
    parts.push(part);
    n += part.length;
  }
  return Buffer.from(`[${parts.join('')}{}]`);
}

test('a gzip bomb that arrives whole before it is inflated stops near the bomb floor, not at 200 times its size', async () => {
  const wire = gzipSync(Buffer.alloc(192 * 1024 * 1024), { level: 9 });
  const decoder = new BodyDecoder({ contentEncoding: 'gzip' });
  decoder.write(wire);
  const r = await decoder.end();
  assert.equal(r.body.truncated, true);
  // 200 × 191 KB would be 38 MB: the ratio is taken against what zlib has consumed.
  assert.ok(r.body.data.length > BOMB_FLOOR_BYTES && r.body.data.length < 2 * BOMB_FLOOR_BYTES, `kept ${r.body.data.length} bytes`);
  assert.match(r.body.error ?? '', /possible compression bomb/);
  assert.equal(r.body.wireSize, wire.length);
});

test('a large body that compresses as text does is decoded whole, past the bomb floor', async () => {
  const plain = jsonText(12 * 1024 * 1024);
  const wire = gzipSync(plain);
  assert.ok(plain.length / wire.length < 50, `ratio ${plain.length / wire.length}`);
  const r = await decode(wire, 'gzip', 64 * 1024);
  assert.equal(r.body.error, undefined);
  assert.equal(r.body.truncated, false);
  assert.ok(r.body.data.equals(plain));
});

test('an identity body past the limit is cut there, marked truncated', async () => {
  const r = await decode(Buffer.alloc(5000, 0x61), '', 1000, 4096);
  assert.equal(r.body.truncated, true);
  assert.equal(r.body.data.length, 4096);
  assert.equal(r.body.wireSize, 5000);
  assert.match(r.body.error ?? '', /larger than the 4096-byte capture limit; kept the first 4096 bytes/);
});

test('a zstd frame asking for a huge window is refused before any allocation', async () => {
  // Magic, descriptor (single segment, 4-byte content size), content size 2 GiB - 1.
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const r = await decode(header, 'zstd');
  assert.match(r.body.error ?? '', /zstd frame needs a 2147483647-byte window/);
  assert.equal(r.body.decoded, false);
});

test('an empty body with a Content-Encoding header is an empty decoded body', async () => {
  const r = await decode(Buffer.alloc(0), 'gzip');
  assert.equal(r.body.error, undefined);
  assert.equal(r.body.data.length, 0);
});
