// Real client traffic (test/fixtures/capture/clients, copied from /work/shared/fixtures/clients)
// through the recorder as tap events: every SSE response and every WebSocket conversation.
// The expected events are read off the files independently of the code under test: the `event:`
// lines of each .sse file in order, and the lines of each ws-frames file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { TapEvent } from '../../src/proxy/tap';
import { harness, rawHeaders, TapScript } from './capture-harness';

const CLIENTS = join(__dirname, '..', 'fixtures', 'capture', 'clients');

function findFiles(dir: string, match: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? findFiles(p, match) : match.test(name) ? [p] : [];
  }).sort();
}

const sseFiles = findFiles(CLIENTS, /\.sse$/);
const wsFiles = findFiles(CLIENTS, /^ws-frames-conn\d+\.jsonl$/);

// Counted with `grep -c '^event:'` on each file.
const EVENT_COUNTS: Record<string, number> = {
  'claude/01-text/01-response.sse': 13,
  'claude/02-tool-thinking/01-response.sse': 20,
  'claude/02-tool-thinking/02-response.sse': 15,
  'claude/03-nonessential/01-response.sse': 13,
  'codex/03-http-sse-custom-provider/01-response.sse': 8,
  'codex/03-http-sse-custom-provider/02-response.sse': 30,
  'opencode/01-anthropic/01-response.sse': 13,
  'opencode/01-anthropic/02-response.sse': 16,
  'opencode/01-anthropic/03-response.sse': 11,
  'opencode/02-openai-http/01-response.sse': 15,
  'opencode/02-openai-http/02-response.sse': 8,
  'opencode/02-openai-http/03-response.sse': 13,
};

test('the fixture copies are all there', () => {
  assert.deepEqual(sseFiles.map((f) => relative(CLIENTS, f)), Object.keys(EVENT_COUNTS).sort());
  assert.equal(wsFiles.length, 6);
});

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

for (const file of sseFiles) {
  const name = relative(CLIENTS, file);
  for (const [coding, encode] of [['', (b: Buffer) => b], ['gzip', gzipSync], ['br', brotliCompressSync]] as const) {
    test(`${name}${coding ? ` (${coding} on the wire)` : ''}: every event, in order, live`, async () => {
      const bytes = readFileSync(file);
      const text = bytes.toString('utf8');
      // Independent reading of the file: the event names in order, and one data line per event.
      const expectedNames = text.split('\n').filter((l) => l.startsWith('event:')).map((l) => l.slice(6).trim());
      const expectedData = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim());
      assert.equal(expectedNames.length, expectedData.length);

      const h = harness();
      const script = new TapScript();
      const headers = ['Content-Type', 'text/event-stream; charset=utf-8', ...(coding ? ['Content-Encoding', coding] : [])];
      // Odd chunk sizes, so events and even UTF-8 sequences straddle chunks.
      const { exchangeId, events } = script.http({ responseHeaders: headers, responseBody: encode(bytes), chunkSize: 37 });
      const end = events.pop()!;
      await h.run([script.open(), ...events]);
      // Decoding runs on the zlib thread pool: give it a moment, but no exchange-end yet.
      await until(() => h.sink.sse(exchangeId).length === EVENT_COUNTS[name]);
      const live = h.sink.sse(exchangeId).length;
      await h.run([end]);

      const got = h.sink.sse(exchangeId);
      assert.deepEqual(got.map((e) => e.event), expectedNames, 'names and order');
      assert.deepEqual(got.map((e) => e.seq), got.map((_e, i) => i));
      assert.equal(got.length, expectedNames.length);
      assert.equal(got.length, EVENT_COUNTS[name]);
      for (const [i, e] of got.entries()) {
        assert.equal(e.data, expectedData[i]);
        const parsed = JSON.parse(e.data) as { type?: string };
        if (parsed.type !== undefined) assert.equal(parsed.type, e.event, 'data.type matches the event name');
      }
      // Anthropic streams end in message_stop, OpenAI Responses streams in response.completed.
      assert.match(got.at(-1)!.event ?? '', /^(message_stop|response\.completed)$/);
      assert.equal(live, got.length, 'all events reached the sink before the exchange ended');
      const record = h.sink.exchange(exchangeId);
      assert.equal(record.kind, 'sse');
      assert.deepEqual(record.errors, []);
      assert.ok(record.responseBody?.data.equals(bytes), 'the stored body is the decoded stream, byte for byte');
      assert.equal(record.responseBody?.encoding, coding);
    });
  }
}

test('a data-only stream ending in [DONE] (Chat Completions style, with comments) parses', async () => {
  const body = ': OPENROUTER PROCESSING\n\ndata: {"choices":[{"delta":{"content":"Hi"}}]}\n\n: OPENROUTER PROCESSING\n\n' +
    'data: {"choices":[{"delta":{}}],"usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n';
  const h = harness();
  const script = new TapScript();
  const { exchangeId, events } = script.http({ responseHeaders: ['content-type', 'text/event-stream'], responseBody: Buffer.from(body), chunkSize: 5 });
  await h.run([script.open(), ...events]);
  const got = h.sink.sse(exchangeId);
  assert.deepEqual(got.map((e) => e.data.startsWith('{') ? 'json' : e.data), ['json', 'json', '[DONE]']);
  assert.ok(got.every((e) => e.event === undefined));
  assert.deepEqual(h.sink.exchange(exchangeId).errors, []);
});

interface FrameLine { conn: number; ts: string; dir: 'in' | 'out' | 'close'; data?: unknown; code?: number; reason?: string }

for (const file of wsFiles) {
  const name = relative(CLIENTS, file);
  test(`${name}: WebSocket messages keep direction, order and count`, async () => {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as FrameLine);
    const handshake = JSON.parse(readFileSync(file.replace('ws-frames', 'ws-handshake').replace('.jsonl', '.json'), 'utf8')) as {
      url: string; headers: Record<string, string>;
    };
    const h = harness();
    const script = new TapScript();
    const open = script.wsOpen(`wss://${handshake.headers.host}${handshake.url}`, rawHeaders(handshake.headers));
    const events: TapEvent[] = [script.open(), ...open.events];
    for (const line of lines) {
      const time = Date.parse(line.ts);
      if (line.dir === 'close') {
        events.push({ type: 'ws-close', exchangeId: open.exchangeId, time, direction: 'client-to-server', code: line.code!, reason: line.reason ?? '' });
      } else {
        events.push({ type: 'ws-message', exchangeId: open.exchangeId, time, opcode: 'text',
          direction: line.dir === 'in' ? 'client-to-server' : 'server-to-client', data: Buffer.from(JSON.stringify(line.data)) });
      }
    }
    events.push({ type: 'exchange-end', exchangeId: open.exchangeId, time: script.time(), outcome: 'complete' });
    await h.run(events);

    const got = h.sink.ws(open.exchangeId);
    assert.equal(got.length, lines.length, 'count');
    assert.deepEqual(got.map((m) => m.seq), lines.map((_l, i) => i));
    assert.deepEqual(got.map((m) => m.direction === 'client-to-server' ? 'in' : 'out'), lines.map((l) => (l.dir === 'close' ? 'in' : l.dir)));
    assert.deepEqual(got.map((m) => m.time), lines.map((l) => Date.parse(l.ts)));
    for (const [i, m] of got.entries()) {
      const line = lines[i];
      if (line.dir === 'close') {
        assert.equal(m.opcode, 'close');
        assert.equal(m.data.toString(), String(line.code));
        assert.equal(m.size, 0, '1006: no close frame on the wire');
      } else {
        assert.equal(m.opcode, 'text');
        assert.deepEqual(JSON.parse(m.data.toString('utf8')), line.data, 'payload unchanged (no secrets in it)');
        assert.equal(m.size, Buffer.byteLength(JSON.stringify(line.data)));
      }
    }
    // The first client frame is response.create; server frames are Responses events.
    const first = JSON.parse(got[0].data.toString()) as { type: string };
    assert.equal(first.type, 'response.create');
    const record = h.sink.exchange(open.exchangeId);
    assert.equal(record.kind, 'websocket');
    assert.equal(record.statusCode, 101);
    assert.deepEqual(record.errors, []);
    assert.ok(!h.sink.dump().includes('<TOKEN>'), 'the handshake\'s bearer token was redacted');
  });
}
