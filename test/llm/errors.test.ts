// A corrupted or unknown request (not JSON, no `messages`, an
// unknown event, an error event, a failed response, an HTTP error) still yields an LLM call, with a
// clear sentence in `errors`; nothing throws, and what can still be decoded is decoded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { httpCase, wsCase } from './synthetic';

const ANTHROPIC = 'https://api.anthropic.com/v1/messages?beta=true';
const RESPONSES = 'https://api.openai.com/v1/responses';
const CHAT = 'https://openrouter.ai/api/v1/chat/completions';
const GEMINI = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse';

const anthropicRequest = { model: 'claude-x', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] };
const anthropicStream = (...middle: { event?: string; data: unknown }[]) => [
  { event: 'message_start', data: { type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 5, output_tokens: 1 } } } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } } },
  ...middle,
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } } },
  { event: 'message_stop', data: { type: 'message_stop' } },
];

function only(calls: LlmCall[]): LlmCall {
  assert.equal(calls.length, 1);
  return calls[0]!;
}

function hasError(call: LlmCall, pattern: RegExp): void {
  assert.ok(call.errors.some((e) => pattern.test(e)), `expected an error matching ${pattern}, got ${JSON.stringify(call.errors)}`);
}

describe('corrupted and unknown requests produce a call with a clear error', () => {
  test('a request body that is not JSON: the error says so, and the response is still decoded', () => {
    const call = only(dissectExchange(httpCase({ url: ANTHROPIC, request: '{"model": "claude-x", "messages": [', sse: anthropicStream() })));
    hasError(call, /^The request body is not valid JSON \(.+\); it starts with: \{"model": "claude-x"/);
    assert.deepEqual(call.output, [{ type: 'text', text: 'ok' }]);
    assert.equal(call.model, 'claude-x', 'taken from the response when the request cannot be read');
  });

  test('a request with no `messages`, for each API that needs one', () => {
    const cases = [
      { url: ANTHROPIC, request: { model: 'm', prompt: 'hi' }, error: /no `messages` array.*Anthropic Messages/ },
      { url: CHAT, request: { model: 'm', prompt: 'hi' }, error: /no `messages` array.*Chat Completions/ },
      { url: RESPONSES, request: { model: 'm', stream: true }, error: /no `input`.*Responses/ },
      { url: GEMINI, request: { prompt: 'hi' }, error: /no `contents` array.*Gemini/ },
    ];
    for (const c of cases) {
      const call = only(dissectExchange(httpCase({ url: c.url, request: c.request, response: {} })));
      hasError(call, c.error);
    }
  });

  test('an unknown stream event is kept in `unknown.events` and named in an error; decoding goes on', () => {
    const call = only(dissectExchange(httpCase({
      url: ANTHROPIC, request: anthropicRequest,
      sse: anthropicStream({ event: 'content_block_wiggle', data: { type: 'content_block_wiggle', index: 0 } }),
    })));
    hasError(call, /Unknown stream event "content_block_wiggle"/);
    assert.deepEqual(call.unknown?.events, ['content_block_wiggle']);
    assert.deepEqual(call.output, [{ type: 'text', text: 'ok' }]);
    assert.equal(call.stopReason, 'end_turn');

    const responses = only(dissectExchange(httpCase({
      url: RESPONSES, request: { model: 'm', input: 'hi', stream: true },
      sse: [{ data: { type: 'response.teleported', foo: 1 } }, { data: { type: 'response.completed', response: { id: 'r1', status: 'completed', output: [] } } }],
    })));
    hasError(responses, /Unknown stream event "response.teleported"/);
    assert.deepEqual(responses.unknown?.events, ['response.teleported']);
  });

  test('an unknown delta type for a known block, and an unknown block type kept whole with its deltas', () => {
    const call = only(dissectExchange(httpCase({
      url: ANTHROPIC, request: anthropicRequest,
      sse: anthropicStream(
        { data: { type: 'content_block_delta', index: 0, delta: { type: 'sparkle_delta', x: 1 } } },
        { data: { type: 'content_block_start', index: 1, content_block: { type: 'hologram', shape: 'cube' } } },
        { data: { type: 'content_block_delta', index: 1, delta: { type: 'hologram_delta', angle: 90 } } },
      ),
    })));
    hasError(call, /Unknown delta type "sparkle_delta"/);
    assert.deepEqual(call.output[1], {
      type: 'unknown', originalType: 'hologram',
      raw: { block: { type: 'hologram', shape: 'cube' }, deltas: [{ type: 'hologram_delta', angle: 90 }] },
    });
  });

  test('an `error` SSE event mid-stream', () => {
    const call = only(dissectExchange(httpCase({
      url: ANTHROPIC, request: anthropicRequest,
      sse: [...anthropicStream().slice(0, 3), { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }],
    })));
    assert.deepEqual(call.errors, ['The stream reported an error: overloaded_error: Overloaded']);
    assert.deepEqual(call.output, [{ type: 'text', text: 'ok' }]);
  });

  test('a stream cut before its end says the response is incomplete', () => {
    const call = only(dissectExchange(httpCase({ url: ANTHROPIC, request: anthropicRequest, sse: anthropicStream().slice(0, 3) })));
    hasError(call, /ended without message_stop/);
  });

  test('response.failed and an error event on the Responses API', () => {
    const failed = only(dissectExchange(httpCase({
      url: RESPONSES, request: { model: 'm', input: 'hi', stream: true },
      sse: [{ data: { type: 'response.failed', response: { id: 'r1', status: 'failed', error: { code: 'server_error', message: 'The model crashed' } } } }],
    })));
    assert.deepEqual(failed.errors, ['The response failed: server_error: The model crashed']);
    assert.equal(failed.stopReason, 'failed');
    const error = only(dissectExchange(httpCase({
      url: RESPONSES, request: { model: 'm', input: 'hi', stream: true },
      sse: [{ event: 'error', data: { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down' } }],
    })));
    assert.deepEqual(error.errors, ['The server sent an error event: rate_limit_exceeded: Slow down']);
  });

  test('an HTTP error status with an error JSON body, on each API', () => {
    const cases = [
      { url: ANTHROPIC, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Too many' } }, expect: 'HTTP 429: rate_limit_error: Too many' },
      { url: RESPONSES, body: { error: { message: 'Too many', type: 'requests', code: 'rate_limit_exceeded' } }, expect: 'HTTP 429: rate_limit_exceeded: Too many' },
      { url: CHAT, body: { error: { message: 'Too many', code: 429 } }, expect: 'HTTP 429: Too many' },
      { url: GEMINI, body: [{ error: { code: 429, message: 'Quota', status: 'RESOURCE_EXHAUSTED' } }], expect: 'HTTP 429: RESOURCE_EXHAUSTED: Quota' },
    ];
    for (const c of cases) {
      const call = only(dissectExchange(httpCase({ url: c.url, request: { model: 'm', messages: [], input: [], contents: [] }, status: 429, response: c.body })));
      assert.deepEqual(call.errors, [c.expect], c.url);
      assert.equal(call.status, 429);
    }
  });

  test('a stored body that could not be decoded or was cut at the size limit is reported', () => {
    const input = httpCase({ url: ANTHROPIC, request: anthropicRequest, sse: anthropicStream() });
    const body = input.exchange.requestBody!;
    input.exchange.requestBody = { ...body, decoded: false, encoding: 'zstd', error: 'unknown frame' };
    hasError(only(dissectExchange(input)), /still zstd-encoded \(decoding failed: unknown frame\)/);
    input.exchange.requestBody = { ...body, truncated: true };
    hasError(only(dissectExchange(input)), /cut at the size limit/);
  });

  test('a WebSocket that closes mid-response, and frames that are not JSON', () => {
    const calls = dissectExchange(wsCase('https://api.openai.com/v1/responses', { originator: 'codex_exec' }, [
      { dir: 'in', data: { type: 'response.create', model: 'm', input: [] } },
      { dir: 'out', data: { type: 'response.created', response: { id: 'r1' } } },
      { dir: 'out', data: 'not json {' },
      { dir: 'close', data: '1006' },
    ]));
    const call = only(calls);
    hasError(call, /A server frame is not valid JSON/);
    hasError(call, /The socket closed \(1006\) before the response completed/);
  });

  test('garbage never throws: random bytes as request, response and events for every API', () => {
    // The entry point would turn an exception into a "dissector failed" error; none may occur.
    const noCrash = (call: LlmCall) => assert.ok(!call.errors.some((e) => e.includes('dissector failed')), call.errors.join('\n'));
    for (const url of [ANTHROPIC, RESPONSES, CHAT, GEMINI, 'https://api.anthropic.com/v1/messages/count_tokens']) {
      for (let i = 0; i < 20; i++) {
        const garbage = randomBytes(64).toString('latin1');
        const input = httpCase({ url, request: garbage, sse: [{ data: garbage }, { data: { type: garbage, index: garbage, delta: garbage } }] });
        const call = only(dissectExchange(input));
        assert.ok(call.errors.length > 0, url);
        noCrash(call);
        const plain = only(dissectExchange(httpCase({ url, request: garbage, response: garbage })));
        assert.ok(plain.errors.length > 0, url);
        noCrash(plain);
        // Well-formed JSON of the wrong shapes everywhere.
        const shapes = only(dissectExchange(httpCase({
          url, request: { model: 7, messages: [null, 3, { role: 'user', content: 5 }], input: [null, { type: 'function_call' }], contents: [{ parts: 'x' }], tools: [1, { type: 'namespace' }] },
          sse: [{ data: { type: 'content_block_start', index: 'a', content_block: null } }, { data: { type: 'response.output_item.done', item: 5 } }, { data: { choices: [{ delta: { tool_calls: [{ function: 3 }] } }] } }, { data: { candidates: [{ content: { parts: [null, { functionCall: 1 }] } }] } }],
        })));
        noCrash(shapes);
      }
    }
    const ws = dissectExchange(wsCase(RESPONSES, {}, [{ dir: 'out', data: randomBytes(32).toString('latin1') }, { dir: 'in', data: '[]' }]));
    assert.ok(ws.length >= 1 && ws.every((c) => c.errors.length > 0));
  });

  test('event and field names that collide with Object.prototype members are unknown, not crashes', () => {
    const call = only(dissectExchange(httpCase({
      url: ANTHROPIC, request: anthropicRequest,
      sse: anthropicStream({ event: 'constructor', data: { type: 'constructor' } }, { data: { type: 'content_block_delta', index: 0, delta: { type: 'toString' } } }),
    })));
    hasError(call, /Unknown stream event "constructor"/);
    hasError(call, /Unknown delta type "toString"/);
  });
});
