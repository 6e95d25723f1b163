// The Raw calls tab's builder: exchanges captured by the real recorder into a real store, read
// back as RawCallView (redacted headers, decoded and re-indented bodies, SSE events with their retry, and WebSocket
// frames in order, the call's own frames marked, problems listed, large bodies cut and noted).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildRawCallView, parseCallId } from '../../src/app/raw-call-view';
import { loadLlmCalls } from '../../src/app/session-index';
import { CaptureRecorder } from '../../src/capture';
import type { LlmCall } from '../../src/llm';
import { bodyNote, RAW_BODY_LIMIT, type RawCallView } from '../../src/shared/raw-call';
import { CaptureStore } from '../../src/store';
import { TapScript } from '../capture/capture-harness';
import { sseEvent } from '../support/sse';
import type { TapEvent } from '../../src/proxy/tap';

const API_KEY = 'sk-ant-api03-SECRET-raw-view-key';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function anthropicStream(): Buffer {
  return Buffer.from([
    // A `retry` field belongs to the event it comes with; the view shows it there.
    'retry: 3000\n' + sseEvent('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi <script>x</script>' } }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ].join(''));
}

function frame(script: TapScript, exchangeId: number, direction: 'client-to-server' | 'server-to-client', data: unknown): TapEvent {
  return { type: 'ws-message', exchangeId, time: script.time(), direction, opcode: 'text', data: json(data) };
}

describe('raw call view', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-raw-'));
  let store: CaptureStore;
  let calls: LlmCall[];
  const view = (call: LlmCall | undefined): RawCallView => {
    assert.ok(call, 'the call was dissected');
    const v = buildRawCallView(store, call.id);
    assert.ok(!('error' in v), JSON.stringify(v));
    return v;
  };

  before(async () => {
    store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
    const recorder = new CaptureRecorder(store);
    const s = new TapScript();
    const events: TapEvent[] = [s.open('api.anthropic.com')];
    const request = { model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hello' }], tools: [{ name: 'Bash', description: 'Run', input_schema: { type: 'object' } }] };
    events.push(...s.http({
      url: 'https://api.anthropic.com/v1/messages', requestHeaders: ['Content-Type', 'application/json', 'x-api-key', API_KEY],
      requestBody: json(request), responseHeaders: ['Content-Type', 'text/event-stream'], responseBody: anthropicStream(), chunkSize: 97,
    }).events);
    // A gzip JSON answer, and one whose gzip is broken (recorded, never fatal).
    const answer = { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
    events.push(...s.http({
      url: 'https://api.anthropic.com/v1/messages', requestHeaders: ['Content-Type', 'application/json'], requestBody: json({ ...request, stream: false, padding: 'x'.repeat(RAW_BODY_LIMIT + 10) }),
      responseHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'], responseBody: gzipSync(json(answer)),
    }).events);
    events.push(...s.http({
      url: 'https://api.anthropic.com/v1/messages', requestHeaders: ['Content-Type', 'application/json'], requestBody: json({ ...request, stream: false }),
      responseHeaders: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'], responseBody: Buffer.from('definitely not gzip'),
    }).events);
    // A Codex-style socket with two calls on it.
    const ws = s.wsOpen('wss://api.openai.com/v1/responses', ['Authorization', 'Bearer sk-proj-SECRET-ws-token']);
    events.push(...ws.events);
    for (const [i, text] of ['first', 'second'].entries()) {
      events.push(frame(s, ws.exchangeId, 'client-to-server', { type: 'response.create', model: 'gpt-5', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }] }));
      events.push(frame(s, ws.exchangeId, 'server-to-client', { type: 'response.created', response: { id: `resp_${i}` } }));
      events.push(frame(s, ws.exchangeId, 'server-to-client', { type: 'response.output_text.delta', delta: `answer ${text}` }));
      events.push(frame(s, ws.exchangeId, 'server-to-client', { type: 'response.completed', response: { id: `resp_${i}`, output: [], usage: { input_tokens: 1, output_tokens: 1 } } }));
    }
    events.push({ type: 'ws-close', exchangeId: ws.exchangeId, time: s.time(), direction: 'client-to-server', code: 1000, reason: 'done' });
    events.push({ type: 'exchange-end', exchangeId: ws.exchangeId, time: s.time(), outcome: 'complete' });
    for (const e of events) recorder.handle(e);
    await recorder.flush();
    calls = loadLlmCalls(store);
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an SSE call: redacted headers, the request re-indented, every event in order with its offset', () => {
    const v = view(calls.find((c) => c.transport === 'sse'));
    assert.equal(v.kind, 'sse');
    assert.equal(v.method, 'POST');
    assert.equal(v.status, 200);
    assert.ok(v.timings.endMs !== undefined && v.timings.endMs >= (v.timings.firstByteMs ?? 0));
    const key = v.requestHeaders.find(([n]) => n.toLowerCase() === 'x-api-key')?.[1] ?? '';
    assert.match(key, /^\[REDACTED:/);
    assert.ok(!JSON.stringify(v).includes(API_KEY), 'the key is nowhere in the view');
    assert.equal(v.requestBody?.format, 'json');
    assert.ok(v.requestBody?.text.includes('\n  "model": "claude-sonnet-4-5"'), 'pretty JSON');
    assert.deepEqual(v.sseEvents?.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.deepEqual(v.sseEvents?.map((e) => e.retry), [3000, undefined, undefined, undefined, undefined, undefined], 'retry read back from the store');
    const offsets = v.sseEvents!.map((e) => e.offsetMs);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
    assert.ok(v.sseEvents![2]!.data.includes('Hi <script>x</script>'), 'captured text is kept as text');
    assert.equal(v.wsMessages, undefined);
    assert.deepEqual(v.errors, []);
  });

  test('a gzip answer is shown decoded; a request over the limit is cut and says how big it was', () => {
    const v = view(calls.find((c) => c.id !== undefined && c.transport === 'http' && c.errors.length === 0));
    const res = v.responseBody!;
    assert.equal(res.encoding, 'gzip');
    assert.equal(res.decoded, true);
    assert.equal(res.format, 'json');
    assert.ok(res.text.includes('"text": "ok"'));
    const req = v.requestBody!;
    assert.equal(req.clipped, true);
    assert.equal(req.text.length, RAW_BODY_LIMIT);
    assert.ok(req.size > RAW_BODY_LIMIT);
    assert.match(bodyNote(req), new RegExp(`truncated, ${req.size.toLocaleString('en-US')} bytes total`));
  });

  test('a body that failed to decode is shown as bytes, with the problem marked', () => {
    const v = view(calls.find((c) => c.transport === 'http' && c.errors.length > 0));
    assert.equal(v.responseBody?.decoded, false);
    assert.equal(v.responseBody?.format, 'binary');
    assert.match(v.responseBody!.text, /^00000000 {2}64 65 66/, 'a hex dump of the start');
    assert.ok(v.errors.some((e) => e.where === 'response body'), JSON.stringify(v.errors));
    assert.ok(v.errors.some((e) => e.where === 'dissector'), 'the dissector could not read it either');
  });

  test('a call on a WebSocket: every frame in order, the call\'s own frames marked', () => {
    const onSocket = calls.filter((c) => c.transport === 'websocket');
    assert.deepEqual(onSocket.map((c) => parseCallId(c.id)?.wsIndex), [0, 1]);
    const v = view(onSocket[1]);
    assert.equal(v.kind, 'websocket');
    assert.equal(v.wsCallIndex, 1);
    assert.equal(v.status, 101);
    assert.match(v.requestHeaders.find(([n]) => n.toLowerCase() === 'authorization')?.[1] ?? '', /REDACTED/);
    const msgs = v.wsMessages!;
    assert.equal(msgs.length, 9, 'eight frames and the close');
    assert.deepEqual(msgs.map((m) => m.seq), [...msgs.map((m) => m.seq)].sort((a, b) => a - b));
    assert.deepEqual(msgs.map((m) => m.inCall), [false, false, false, false, true, true, true, true, false]);
    assert.equal(msgs[0]!.direction, 'client-to-server');
    assert.ok(msgs[4]!.text.includes('"text": "second"'));
    assert.equal(msgs[8]!.opcode, 'close');
    assert.deepEqual(view(onSocket[0]).wsMessages!.map((m) => m.inCall).slice(0, 5), [true, true, true, true, false]);
  });

  test('ids that are not calls, or are gone, give a sentence', () => {
    assert.deepEqual(parseCallId('12:3'), { exchangeId: 12, wsIndex: 3 });
    assert.equal(parseCallId('12;drop'), undefined);
    assert.match((buildRawCallView(store, 'nope') as { error: string }).error, /not a call id/);
    assert.match((buildRawCallView(store, '999999') as { error: string }).error, /no longer in the store/);
  });
});
