// Shapes the captured fixtures do not contain but the APIs document: citations, server tools,
// redacted thinking, parallel streamed tool calls, Gemini function calls and thoughts, Responses
// reasoning summaries, non-streamed answers, and SSE split from a stored body.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { httpCase, type HttpCase } from './synthetic';

function one(c: HttpCase): LlmCall {
  const calls = dissectExchange(httpCase(c));
  assert.equal(calls.length, 1);
  return calls[0]!;
}

const ANTHROPIC = 'https://api.anthropic.com/v1/messages';
const CHAT = 'https://openrouter.ai/api/v1/chat/completions';
const RESPONSES = 'https://api.openai.com/v1/responses';
const GEMINI = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro';
const ev = (data: Record<string, unknown>) => ({ event: String(data.type), data });

describe('stream decoding', () => {
  test('Anthropic: citations, a server tool with its result, redacted thinking; timings from the events', () => {
    const input = httpCase({
      url: ANTHROPIC, request: { model: 'claude-x', messages: [{ role: 'user', content: 'search' }], stream: true },
      sse: [
        ev({ type: 'message_start', message: { usage: { input_tokens: 9, cache_read_input_tokens: 4 } } }),
        ev({ type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EnCrYpTeD' } }),
        ev({ type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }),
        ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query":' } }),
        ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"llm capture"}' } }),
        ev({ type: 'content_block_start', index: 2, content_block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', url: 'https://x.example' }] } }),
        ev({ type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } }),
        ev({ type: 'content_block_delta', index: 3, delta: { type: 'citations_delta', citation: { type: 'web_search_result_location', url: 'https://x.example' } } }),
        ev({ type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'Found it.' } }),
        ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 12, cache_creation_input_tokens: 2 } }),
        ev({ type: 'message_stop' }),
      ],
    });
    const [call] = dissectExchange(input);
    assert.deepEqual(call!.output, [
      { type: 'redacted-thinking', data: 'EnCrYpTeD' },
      { type: 'tool-call', callId: 'srvtoolu_1', name: 'web_search', arguments: '{"query":"llm capture"}', input: { query: 'llm capture' }, kind: 'server' },
      { type: 'tool-result', callId: 'srvtoolu_1', output: '{"type":"web_search_result","url":"https://x.example"}', kind: 'server' },
      { type: 'text', text: 'Found it.', citations: [{ type: 'web_search_result_location', url: 'https://x.example' }] },
    ]);
    assert.deepEqual(call!.usage, { inputTokens: 9, cacheReadTokens: 4, outputTokens: 12, cacheWriteTokens: 2 });
    assert.equal(call!.firstTokenAt, input.sseEvents![3]!.time, 'the first content delta');
    assert.equal(call!.endedAt, input.exchange.endedAt);
    assert.deepEqual(call!.errors, []);
  });

  test('Anthropic, not streamed: the message body, and a history with tool results as strings and block arrays', () => {
    const call = one({
      url: ANTHROPIC,
      request: {
        model: 'claude-x', system: 'Be brief.', tools: [{ name: 'Read', input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search' }],
        messages: [
          { role: 'user', content: 'read it' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: { path: 'a' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'line 1' }, { type: 'text', text: 'line 2' }], is_error: true }] },
        ],
      },
      response: { id: 'msg_1', model: 'claude-x-2', content: [{ type: 'tool_use', id: 't2', name: 'Read', input: { path: 'b' } }], stop_reason: 'tool_use', usage: { input_tokens: 20, output_tokens: 5 } },
    });
    assert.equal(call.system, 'Be brief.');
    assert.deepEqual(call.tools.map((t) => [t.name, t.kind]), [['Read', 'function'], ['web_search', 'server']]);
    assert.deepEqual(call.input[2]!.content, [{ type: 'tool-result', callId: 't1', output: 'line 1\nline 2', kind: 'function', isError: true }]);
    assert.deepEqual(call.output, [{ type: 'tool-call', callId: 't2', name: 'Read', arguments: '{"path":"b"}', input: { path: 'b' }, kind: 'function' }]);
    assert.equal(call.model, 'claude-x', 'the requested model');
    assert.equal(call.transport, 'http');
    assert.equal(call.firstTokenAt, call.startedAt + 5, 'the response start, for a body that arrives whole');
  });

  test('Chat Completions: two tool calls streamed in parallel by index, reasoning first', () => {
    const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ data: { model: 'x', choices: [{ index: 0, delta, ...extra }] } });
    const call = one({
      url: CHAT, request: { model: 'x', messages: [{ role: 'user', content: 'go' }], stream: true },
      sse: [
        chunk({ reasoning: 'Two lookups.' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'read', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'grep', arguments: '{"pat' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":"a.ts"}' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: 'tern":"x"}' } }] }),
        chunk({}, { finish_reason: 'tool_calls' }),
        { data: { choices: [], usage: { prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 6 } } } },
        { data: '[DONE]' },
      ],
    });
    assert.deepEqual(call.output, [
      { type: 'thinking', text: 'Two lookups.' },
      { type: 'tool-call', callId: 'call_a', name: 'read', arguments: '{"path":"a.ts"}', input: { path: 'a.ts' }, kind: 'function' },
      { type: 'tool-call', callId: 'call_b', name: 'grep', arguments: '{"pattern":"x"}', input: { pattern: 'x' }, kind: 'function' },
    ]);
    assert.equal(call.stopReason, 'tool_calls');
    assert.deepEqual(call.usage, { inputTokens: 10, outputTokens: 4, cacheReadTokens: 6 });
    assert.deepEqual(call.errors, []);
  });

  test('Chat Completions history: assistant tool_calls and tool messages; a padded non-streamed answer with tool calls', () => {
    const call = one({
      url: CHAT,
      request: {
        model: 'x', tools: [{ type: 'function', function: { name: 'read', parameters: { type: 'object' } } }],
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read', arguments: '{"p":1}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: 'file body' },
        ],
      },
      response: `\n   \n${JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'read', arguments: '{"p":2}' } }] }, finish_reason: 'tool_calls' }] })}`,
    });
    assert.equal(call.system, 'sys');
    assert.deepEqual(call.input[1]!.content, [{ type: 'text', text: 'look' }, { type: 'image', mediaType: 'image/png' }]);
    assert.deepEqual(call.input[2]!.content, [{ type: 'tool-call', callId: 'c1', name: 'read', arguments: '{"p":1}', input: { p: 1 }, kind: 'function' }]);
    assert.deepEqual(call.input[3], { role: 'tool', content: [{ type: 'tool-result', callId: 'c1', output: 'file body', kind: 'function' }] });
    assert.deepEqual(call.output, [{ type: 'tool-call', callId: 'c2', name: 'read', arguments: '{"p":2}', input: { p: 2 }, kind: 'function' }]);
    assert.deepEqual(call.errors, []);
  });

  test('SSE split from the stored body when capture handed over no events (comment lines skipped)', () => {
    const call = one({
      url: CHAT, request: { model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }, sseFromBody: true,
      sse: [{ data: { choices: [{ index: 0, delta: { content: 'Hey' } }] } }, { data: { choices: [{ index: 0, delta: { content: '!' }, finish_reason: 'stop' }] } }, { data: '[DONE]' }],
    });
    assert.deepEqual(call.output, [{ type: 'text', text: 'Hey!' }]);
    assert.equal(call.transport, 'sse');
  });

  test('Gemini: thoughts, a function call with its signature, a function response in the history, a JSON-array stream', () => {
    const request = {
      contents: [
        { role: 'user', parts: [{ text: 'list files' }] },
        { role: 'model', parts: [{ functionCall: { name: 'ls', args: { dir: '.' } } }] },
        { role: 'function', parts: [{ functionResponse: { name: 'ls', response: { files: ['a'] } } }] },
      ],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      tools: [{ functionDeclarations: [{ name: 'ls', parametersJsonSchema: { type: 'object' } }] }, { googleSearch: {} }],
    };
    const chunks = [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Thinking ', thought: true }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'more.', thought: true }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'cat', args: { f: 'a' } }, thoughtSignature: 'SIG' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, cachedContentTokenCount: 2, thoughtsTokenCount: 5 }, modelVersion: 'gemini-2.5-pro-001' },
    ];
    const call = one({ url: `${GEMINI}:streamGenerateContent`, request, response: chunks });
    assert.equal(call.system, 'You are terse.');
    assert.deepEqual(call.tools.map((t) => [t.name, t.kind]), [['ls', 'function'], ['googleSearch', 'server']]);
    assert.deepEqual(call.input.map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.deepEqual(call.input[2]!.content, [{ type: 'tool-result', callId: 'ls', output: '{"files":["a"]}', kind: 'function' }]);
    assert.deepEqual(call.output, [
      { type: 'thinking', text: 'Thinking more.' },
      { type: 'redacted-thinking', data: 'SIG' },
      // No id on the wire: the name stands in for it, and says so.
      { type: 'tool-call', callId: 'cat', name: 'cat', arguments: '{"f":"a"}', input: { f: 'a' }, kind: 'function', callIdFromName: true },
    ]);
    assert.deepEqual(call.usage, { inputTokens: 7, outputTokens: 3, cacheReadTokens: 2, reasoningTokens: 5 });
    assert.equal(call.model, 'gemini-2.5-pro');
    assert.deepEqual(call.errors, []);
  });

  test('Gemini countTokens is a count-tokens side call', () => {
    const call = one({ url: `${GEMINI}:countTokens`, request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, response: { totalTokens: 31 } });
    assert.equal(call.side, 'count-tokens');
    assert.deepEqual(call.usage, { inputTokens: 31 });
  });

  test('Responses: reasoning summary deltas, text only in output_item.done, and deltas that disagree with .done', () => {
    const call = one({
      url: RESPONSES, request: { model: 'gpt-x', input: 'hi', stream: true, instructions: 'Be kind.' },
      sse: [
        { data: { type: 'response.created', response: { id: 'resp_1', model: 'gpt-x' } } },
        { data: { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } } },
        { data: { type: 'response.reasoning_summary_text.delta', output_index: 0, item_id: 'rs_1', summary_index: 0, delta: 'Plan: ' } },
        { data: { type: 'response.reasoning_summary_text.delta', output_index: 0, item_id: 'rs_1', summary_index: 0, delta: 'greet.' } },
        { data: { type: 'response.output_item.added', output_index: 1, item: { type: 'message', id: 'm1', role: 'assistant', content: [] } } },
        { data: { type: 'response.output_item.done', output_index: 1, item: { type: 'message', id: 'm1', role: 'assistant', content: [{ type: 'output_text', text: 'Hello!', annotations: [] }] } } },
        { data: { type: 'response.output_item.added', output_index: 2, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } } },
        { data: { type: 'response.function_call_arguments.delta', output_index: 2, item_id: 'fc_1', delta: '{"a":1' } },
        { data: { type: 'response.function_call_arguments.done', output_index: 2, item_id: 'fc_1', arguments: '{"a":1}' } },
        { data: { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [], usage: { input_tokens: 5, output_tokens: 9, output_tokens_details: { reasoning_tokens: 4 } } } } },
      ],
    });
    assert.equal(call.system, 'Be kind.');
    assert.deepEqual(call.input, [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    assert.deepEqual(call.output.slice(0, 2), [{ type: 'reasoning', summary: 'Plan: greet.', encrypted: false, id: 'rs_1' }, { type: 'text', text: 'Hello!' }]);
    assert.match(call.errors.join('\n'), /arguments joined from deltas differ from the final arguments of item fc_1/);
    assert.deepEqual(call.usage, { inputTokens: 5, outputTokens: 9, reasoningTokens: 4 });
  });

  test('Responses: a server that sends only the .done events still gives the text, its citations and the arguments', () => {
    const call = one({
      url: RESPONSES, request: { model: 'gpt-x', input: 'hi', stream: true },
      sse: [
        { data: { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm1', role: 'assistant', content: [] } } },
        { data: { type: 'response.output_text.done', output_index: 0, item_id: 'm1', content_index: 0, text: 'Only here.' } },
        { data: { type: 'response.output_text.annotation.added', output_index: 0, item_id: 'm1', content_index: 0, annotation: { type: 'url_citation', url: 'https://x.example' } } },
        { data: { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } } },
        { data: { type: 'response.function_call_arguments.done', output_index: 1, item_id: 'fc_1', arguments: '{"x":true}' } },
        { data: { type: 'response.completed', response: { id: 'r', status: 'completed', output: [] } } },
      ],
    });
    assert.deepEqual(call.output, [
      { type: 'text', text: 'Only here.', citations: [{ type: 'url_citation', url: 'https://x.example' }] },
      { type: 'tool-call', callId: 'call_1', name: 'f', arguments: '{"x":true}', input: { x: true }, kind: 'function', id: 'fc_1' },
    ]);
    assert.deepEqual(call.errors, []);
  });

  test('Responses, not streamed: a whole response object', () => {
    const call = one({
      url: RESPONSES, request: { model: 'gpt-x', input: [{ role: 'user', content: 'hi' }] },
      response: { id: 'resp_2', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hel' }] }], usage: { input_tokens: 2, output_tokens: 1, input_tokens_details: { cached_tokens: 0 } } },
    });
    assert.deepEqual(call.output, [{ type: 'text', text: 'Hel' }]);
    assert.equal(call.stopReason, 'max_output_tokens');
    assert.equal(call.identity.responseId, 'resp_2');
    assert.deepEqual(call.errors, []);
  });
});
