// The recorder as the proxy's tap subscriber: records assembled in order, bad input written down
// as errors without stopping the next exchange, a throwing sink contained, state let go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Tap, type TapEvent } from '../../src/proxy/tap';
import { CaptureRecorder } from '../../src/capture/exchange-recorder';
import type { CaptureSink } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { tempDir } from '../store/fixtures/records';
import { harness, RecordingSink, TapScript } from './capture-harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'capture');
const SSE_FILE = join(FIXTURES, 'clients', 'claude', '01-text', '01-response.sse');

/** A small good exchange, to show the recorder still works after a bad one. */
function goodExchange(script: TapScript): { exchangeId: number; events: TapEvent[] } {
  return script.http({
    requestHeaders: ['Content-Type', 'application/json'], requestBody: Buffer.from('{"ok":true}'),
    responseHeaders: ['Content-Type', 'text/event-stream', 'Content-Encoding', 'gzip'],
    responseBody: gzipSync(readFileSync(SSE_FILE)),
  });
}

async function assertStillWorks(h: ReturnType<typeof harness>, script: TapScript): Promise<void> {
  const good = goodExchange(script);
  await h.run(good.events);
  const record = h.sink.exchange(good.exchangeId);
  assert.deepEqual(record.errors, []);
  assert.equal(h.sink.sse(good.exchangeId).length, 13);
  assert.equal(record.outcome, 'complete');
}

/** A streamed JSON call: its request body, and the events of the whole exchange (SSE in 100-byte chunks). */
function streamedCall(script: TapScript): { body: Buffer; exchangeId: number; events: TapEvent[] } {
  const body = Buffer.from(JSON.stringify({ model: 'claude', stream: true }));
  const { exchangeId, events } = script.http({
    requestHeaders: ['Content-Type', 'application/json'], requestBody: body,
    responseHeaders: ['Content-Type', 'text/event-stream'], responseBody: readFileSync(SSE_FILE), chunkSize: 100,
  });
  return { body, exchangeId, events };
}

test('an exchange is recorded in order: head, request body, response head, live events, final record', async () => {
  const h = harness();
  const script = new TapScript();
  const { body, exchangeId, events } = streamedCall(script);
  await h.runLive([script.open(), ...events, script.close()]);
  // Connection events are not held back behind an exchange's decoding: only the order within
  // one exchange (and within one connection) is promised.
  assert.equal(h.sink.calls[0].method, 'connectionUpdated');
  const forExchange = h.sink.calls.filter((c) => c.method !== 'connectionUpdated');
  const updates = forExchange.filter((c) => c.method === 'exchangeUpdated').map((c) => c.method === 'exchangeUpdated' ? c.record : undefined);
  assert.equal(updates.length, 4, 'request head, request end, response head, end');
  assert.equal(forExchange[forExchange.length - 1].method, 'exchangeUpdated', 'the final record comes after every event');
  assert.ok(forExchange.findIndex((c) => c.method === 'sseEvents') > 2, 'events come after the response head');
  const last = h.sink.exchange(exchangeId);
  assert.equal(last.kind, 'sse');
  assert.equal(last.statusCode, 200);
  assert.ok(last.requestBody?.data.equals(body));
  assert.equal(last.requestBody?.wireSize, body.length);
  assert.ok(last.startedAt < last.requestEndedAt! && last.requestEndedAt! < last.responseStartedAt! && last.responseStartedAt! < last.endedAt!);
  assert.equal(updates[0]?.requestBody, undefined, 'the first update is the head only');
  assert.equal(h.recorder.openExchanges, 0, 'state is let go at exchange-end');
  const conns = h.sink.calls.filter((c) => c.method === 'connectionUpdated');
  assert.equal(conns.length, 2);
  const closed = conns[1];
  assert.ok(closed.method === 'connectionUpdated' && closed.record.closedAt !== undefined && closed.record.bytesToClient === 1);
});

test('events that arrive together are written once: the final record supersedes the updates queued before it', async () => {
  const h = harness();
  const script = new TapScript();
  const { body, exchangeId, events } = streamedCall(script);
  // The request in one batch, then the response in another: one update for each.
  const responseStart = events.findIndex((e) => e.type === 'response-head');
  await h.run(events.slice(0, responseStart));
  await h.run(events.slice(responseStart));
  const updates = h.sink.calls.filter((c) => c.method === 'exchangeUpdated').map((c) => (c.method === 'exchangeUpdated' ? c.record : undefined));
  assert.equal(updates.length, 2, 'the request (head and body), then the final record');
  assert.ok(updates[0]?.requestBody?.data.equals(body) && updates[0].responseStartedAt === undefined);
  const last = h.sink.exchange(exchangeId);
  assert.equal(last.outcome, 'complete');
  assert.equal(h.sink.sse(exchangeId).length, 13);
});

test('a zstd request body (Codex with ChatGPT sign-in) is stored decoded', async () => {
  const h = harness();
  const script = new TapScript();
  const { exchangeId, events } = script.http({
    url: 'https://chatgpt.com/backend-api/codex/responses',
    requestHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'zstd', 'Authorization', 'Bearer abc.def'],
    requestBody: readFileSync(join(FIXTURES, 'codex-responses-request-body.json.zst')), chunkSize: 4096,
  });
  await h.run(events);
  const body = h.sink.exchange(exchangeId).requestBody!;
  assert.equal(body.encoding, 'zstd');
  assert.equal(body.decoded, true);
  assert.ok(body.data.equals(readFileSync(join(FIXTURES, 'codex-responses-request-body.json'))));
  assert.deepEqual(h.sink.exchange(exchangeId).errors, []);
});

test('truncated gzip: raw bytes kept, error recorded, next exchange fine', async () => {
  const h = harness();
  const script = new TapScript();
  const wire = gzipSync(Buffer.from(JSON.stringify({ hello: 'world'.repeat(100) })));
  const cut = wire.subarray(0, wire.length - 10);
  const { exchangeId, events } = script.http({ responseHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'], responseBody: cut });
  await h.run(events);
  const r = h.sink.exchange(exchangeId);
  assert.deepEqual(r.errors, ['response body: gzip decoding failed: unexpected end of file']);
  assert.equal(r.responseBody?.decoded, false);
  assert.ok(r.responseBody?.data.equals(cut));
  await assertStillWorks(h, script);
});

test('truncated gzip whose decoded part holds a secret: the raw bytes are withheld, the redacted part kept', async () => {
  const h = harness();
  const script = new TapScript();
  const secret = 'rt-SECRET-abcdef0123456789';
  const wire = gzipSync(Buffer.from(JSON.stringify({ refresh_token: secret, pad: 'x'.repeat(50_000) })));
  const { exchangeId, events } = script.http({ responseHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'], responseBody: wire.subarray(0, wire.length - 10) });
  await h.run(events);
  const r = h.sink.exchange(exchangeId);
  assert.equal(r.responseBody?.decoded, true);
  assert.equal(r.responseBody?.truncated, true);
  assert.match(r.errors[1], /raw bytes were withheld because they hold a secret/);
  assert.ok(!h.sink.dump().includes(secret));
});

test('invalid SSE (garbage lines, binary junk, no final newline) is recorded; the good events still arrive', async () => {
  const h = harness();
  const script = new TapScript();
  const junk = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a]);
  const body = Buffer.concat([Buffer.from('event: a\ndata: {"n":1}\n\nnot a field\n'), junk, Buffer.from('data: {"n":2}\n\ndata: {"n":3')]);
  const { exchangeId, events } = script.http({ responseHeaders: ['Content-Type', 'text/event-stream'], responseBody: body, chunkSize: 3 });
  await h.run(events);
  assert.deepEqual(h.sink.sse(exchangeId).map((e) => e.data), ['{"n":1}', '{"n":2}']);
  const r = h.sink.exchange(exchangeId);
  assert.deepEqual(r.errors, [
    'response body: SSE: unknown field "not a field" in line "not a field"',
    'response body: SSE stream holds bytes that are not valid UTF-8 (read as U+FFFD)',
    'response body: SSE: unknown field "��\\u0000\\u0001�" in line "��\\u0000\\u0001�"',
    'response body: SSE stream does not end with a newline; its last line was incomplete',
    'response body: SSE stream ended inside an event (no blank line after it); the event was not dispatched: "{\\"n\\":3"',
  ]);
  assert.ok(r.responseBody?.data.equals(body), 'the bytes are kept as they came');
  assert.equal(r.responseBody?.error, r.errors.map((e) => e.slice('response body: '.length)).join('; '));
  await assertStillWorks(h, script);
});

test('a JSON body that is not JSON keeps its bytes and says why', async () => {
  const h = harness();
  const script = new TapScript();
  const bad = Buffer.from('{"model": "x", "messages": [');
  const { exchangeId, events } = script.http({
    requestHeaders: ['Content-Type', 'application/json; charset=utf-8'], requestBody: bad,
    responseHeaders: ['Content-Type', 'application/problem+json'], responseBody: Buffer.from('<html>502</html>'),
  });
  await h.run(events);
  const r = h.sink.exchange(exchangeId);
  assert.match(r.errors[0], /^request body is not valid JSON: /);
  assert.match(r.errors[1], /^response body is not valid JSON: /);
  assert.ok(r.requestBody?.data.equals(bad));
  assert.equal(r.requestBody?.error, r.errors[0]);
  // Leading whitespace (OpenRouter pads JSON) is valid JSON.
  const padded = script.http({ responseHeaders: ['Content-Type', 'application/json'], responseBody: Buffer.from('\n\n  {"ok":1}') });
  await h.run(padded.events);
  assert.deepEqual(h.sink.exchange(padded.exchangeId).errors, []);
  await assertStillWorks(h, script);
});

test('a compression bomb (10 KB gzip, far past the limit) is cut at the limit with a clear error', async () => {
  const limit = 1024 * 1024;
  const h = harness({ maxBodyBytes: limit });
  const script = new TapScript();
  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
  const { exchangeId, events } = script.http({ responseHeaders: ['Content-Type', 'application/octet-stream', 'Content-Encoding', 'gzip'], responseBody: bomb, chunkSize: 512 });
  await h.run(events);
  const r = h.sink.exchange(exchangeId);
  assert.equal(r.responseBody?.truncated, true);
  assert.equal(r.responseBody?.data.length, limit);
  assert.equal(r.responseBody?.wireSize, bomb.length);
  assert.match(r.errors[0], /^response body: decoded body is larger than the 1048576-byte capture limit \(possible compression bomb\)/);
  await assertStillWorks(h, script);
});

test('a throwing sink never throws out of handle, and the failure is recorded on the exchange', async () => {
  const reported: string[] = [];
  let exchangeCalls = 0;
  const finals = new Map<number, string[]>();
  const sink: CaptureSink = {
    connectionUpdated() { throw new Error('store is down'); },
    exchangeUpdated(record) {
      if (record.endedAt !== undefined) finals.set(record.id, record.errors);
      // The first two updates of exchange 1 fail; later ones succeed and carry the failures.
      if (record.id === 1 && ++exchangeCalls <= 2) throw new Error('store is down');
    },
    sseEvents() { throw new Error('events table locked'); },
    wsMessage() { throw new Error('ws table locked'); },
  };
  const recorder = new CaptureRecorder(sink, { onError: (m) => reported.push(m) });
  const script = new TapScript();
  const events: TapEvent[] = [script.open(), ...goodExchange(script).events];
  const ws = script.wsOpen('wss://x.test/ws', []);
  events.push(...ws.events, { type: 'ws-message', exchangeId: ws.exchangeId, time: 1, direction: 'client-to-server', opcode: 'text', data: Buffer.from('{}') },
    { type: 'exchange-end', exchangeId: ws.exchangeId, time: 2, outcome: 'complete' });
  // Each event on its own turn, so that every update reaches the sink (events that arrive together are written once).
  for (const e of events) {
    assert.doesNotThrow(() => recorder.handle(e));
    await recorder.flush();
  }
  assert.equal(finals.size, 2);
  assert.deepEqual(finals.get(1), ['sink.exchangeUpdated failed: store is down', 'sink.exchangeUpdated failed: store is down',
    'sink.sseEvents failed: events table locked']);
  assert.deepEqual(finals.get(ws.exchangeId), ['sink.wsMessage failed: ws table locked']);
  assert.ok(reported.some((m) => m.includes('sink.connectionUpdated failed')));
  assert.equal(recorder.openExchanges, 0);
});

test('works as a real Tap listener; events for unknown exchanges are reported, not thrown', async () => {
  const tap = new Tap();
  const sink = new RecordingSink();
  const reported: string[] = [];
  const recorder = new CaptureRecorder(sink, { onError: (m) => reported.push(m) });
  tap.subscribe(recorder.handle);
  const script = new TapScript();
  const { exchangeId, events } = goodExchange(script);
  for (const e of [script.open(), ...events]) tap.emit(e);
  tap.emit({ type: 'response-body', exchangeId: 999, time: 1, chunk: Buffer.from('x') });
  await new Promise((r) => setImmediate(r));
  await recorder.flush();
  assert.equal(sink.sse(exchangeId).length, 13);
  assert.deepEqual(reported, ['response-body for unknown exchange 999']);
});

test('client abort, proxy errors and tap overflow end up on the exchange', async () => {
  const h = harness();
  const script = new TapScript();
  const exchangeId = 7;
  await h.run([
    script.open(),
    { type: 'request-head', exchangeId, connectionId: 1, time: script.time(), method: 'POST', url: 'https://a.test/v1', httpVersion: '1.1',
      rawHeaders: ['Content-Type', 'application/json'], upgrade: false },
    { type: 'request-body', exchangeId, time: script.time(), chunk: Buffer.from('{"partial": ') },
    { type: 'tap-overflow', time: script.time(), droppedEvents: 3, droppedBytes: 3000 },
    { type: 'error', exchangeId, connectionId: 1, time: script.time(), message: 'socket hang up', code: 'ECONNRESET' },
    { type: 'exchange-end', exchangeId, time: script.time(), outcome: 'client-aborted', error: 'client closed the connection' },
  ]);
  const r = h.sink.exchange(exchangeId);
  assert.equal(r.outcome, 'client-aborted');
  assert.deepEqual(r.errors.slice(0, 2), [
    'capture fell behind: the tap dropped 3 events (3000 bytes) while this exchange was in flight; its bodies or messages may be incomplete',
    'socket hang up (ECONNRESET)',
  ]);
  assert.ok(r.errors.includes('client closed the connection'));
  assert.match(r.errors.find((e) => e.startsWith('request body is not valid JSON')) ?? '', /not valid JSON/);
  assert.ok(r.requestBody?.data.equals(Buffer.from('{"partial": ')), 'the body seen so far is kept');
  assert.deepEqual(h.errors, ['capture fell behind: the tap dropped 3 events (3000 bytes)']);
});

test('an exchange left open when its connection closes is finished after the grace period', async () => {
  const h = harness({ orphanGraceMs: 10 });
  const script = new TapScript();
  await h.run([script.open(),
    { type: 'request-head', exchangeId: 1, connectionId: 1, time: script.time(), method: 'GET', url: 'https://a.test/', httpVersion: '1.1', rawHeaders: [], upgrade: false },
    script.close()]);
  assert.equal(h.recorder.openExchanges, 1);
  await new Promise((r) => setTimeout(r, 30));
  await h.recorder.flush();
  assert.equal(h.recorder.openExchanges, 0);
  assert.match(h.sink.exchange(1).errors[0], /never reported the end/);
});

test('a WebSocket message past the limit is cut, with its wire size kept', async () => {
  const h = harness({ maxBodyBytes: 100 });
  const script = new TapScript();
  const ws = script.wsOpen('wss://x.test/ws', []);
  await h.run([...ws.events,
    { type: 'ws-message', exchangeId: ws.exchangeId, time: 1, direction: 'server-to-client', opcode: 'binary', data: Buffer.alloc(1000, 1) },
    { type: 'ws-message', exchangeId: ws.exchangeId, time: 2, direction: 'server-to-client', opcode: 'ping', data: Buffer.from('hi') },
    { type: 'ws-close', exchangeId: ws.exchangeId, time: 3, direction: 'server-to-client', code: 1000, reason: 'bye' },
    { type: 'exchange-end', exchangeId: ws.exchangeId, time: 4, outcome: 'complete' }]);
  const msgs = h.sink.ws(ws.exchangeId);
  assert.deepEqual(msgs.map((m) => [m.seq, m.opcode, m.data.length, m.size]), [[0, 'binary', 100, 1000], [1, 'ping', 2, 2], [2, 'close', 8, 5]]);
  assert.equal(msgs[2].data.toString(), '1000 bye');
  assert.match(h.sink.exchange(ws.exchangeId).errors[0], /WebSocket message 0 is larger than the 100-byte capture limit/);
});

test('final records leave in the order the exchanges ended, though events for several arrive in one batch', async () => {
  // A loaded capture thread gets a long stream's last events and the whole next call in one batch.
  // Each exchange's chain runs on its own, so the short one used to finish first, and a live session
  // met the follow-up call before the call it follows (docs/decisions.md, decision 80).
  const h = harness();
  const script = new TapScript();
  const long = streamedCall(script);
  // Its gzip is undone on the thread pool, which the next, plain call never waits for.
  const gzipped = goodExchange(script);
  const short = script.http({ requestHeaders: ['Content-Type', 'application/json'], requestBody: Buffer.from('{}'),
    responseHeaders: ['Content-Type', 'application/json'], responseBody: Buffer.from('{"ok":true}') });
  await h.run([...long.events, ...gzipped.events, ...short.events]);
  const finals = h.sink.calls.flatMap((c) => (c.method === 'exchangeUpdated' && c.record.endedAt !== undefined ? [c.record.id] : []));
  assert.deepEqual(finals, [long.exchangeId, gzipped.exchangeId, short.exchangeId]);
});

test('the store numbers exchanges in the order they started, though the second one is written first', async () => {
  // All of a fast exchange's events in one batch leave only its final record, which waits for its
  // stream's events; the next exchange's head went out first and took the lower id, so reading
  // calls by id put the follow-up call first (docs/decisions.md, decision 80).
  const tmp = tempDir();
  const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
  try {
    const recorder = new CaptureRecorder(store);
    const script = new TapScript();
    const first = streamedCall(script);
    const second = streamedCall(script);
    const headOfSecond = second.events.findIndex((e) => e.type === 'response-head');
    for (const e of [script.open(), ...first.events, ...second.events.slice(0, headOfSecond)]) recorder.handle(e);
    await recorder.flush();
    for (const e of second.events.slice(headOfSecond)) recorder.handle(e);
    await recorder.flush();
    const ids = [first.exchangeId, second.exchangeId].map((id) => store.storedExchangeId(id)!);
    assert.ok(ids[0]! < ids[1]!, `ids ${ids.join(', ')}`);
    const byId = store.listExchanges({ limit: 10 }).items.sort((a, b) => a.id - b.id);
    assert.deepEqual(byId.map((x) => x.id), ids);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
