// A stream still arriving (the exchange has not ended, its body is not stored yet): the dissectors
// give what has arrived so far, text and tool arguments cut mid-way included, with no end time
// and without calling the response incomplete. Live previews (src/app/live-sessions.ts) rely on it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DissectInput } from '../../src/llm/dissector';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { httpCase, wsCase, type HttpCase } from './synthetic';

/** The exchange as capture stores it mid-stream: no end, no outcome, no response body yet. */
function streaming(c: HttpCase): DissectInput {
  const input = httpCase(c);
  const { endedAt: _e, outcome: _o, responseBody: _b, ...open } = input.exchange;
  return { ...input, exchange: open };
}

function one(input: DissectInput): LlmCall {
  const calls = dissectExchange(input);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.endedAt, undefined);
  assert.deepEqual(calls[0]!.errors, []);
  return calls[0]!;
}

describe('partial streams', () => {
  test('Anthropic: text so far and a tool call whose JSON is cut mid-way', () => {
    const call = one(streaming({
      url: 'https://api.anthropic.com/v1/messages', request: { model: 'claude-x', messages: [{ role: 'user', content: 'go' }], stream: true },
      sse: [
        { event: 'message_start', data: { type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 3 } } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'I will ' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'run it.' } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"command": "ls -' } } },
      ],
    }));
    assert.deepEqual(call.output, [
      { type: 'thinking', text: 'Let me ' },
      { type: 'text', text: 'I will run it.' },
      { type: 'tool-call', callId: 'toolu_1', name: 'Bash', arguments: '{"command": "ls -', kind: 'function' },
    ]);
  });

  test('Chat Completions: text and tool arguments so far', () => {
    const chunk = (delta: unknown) => ({ data: { model: 'gpt-x', choices: [{ index: 0, delta }] } });
    const call = one(streaming({
      url: 'https://openrouter.ai/api/v1/chat/completions', request: { model: 'gpt-x', messages: [{ role: 'user', content: 'go' }], stream: true },
      sse: [
        chunk({ role: 'assistant', content: 'Sure, ' }),
        chunk({ content: 'running.' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'shell', arguments: '{"cmd":' } }] }),
      ],
    }));
    assert.deepEqual(call.output, [
      { type: 'text', text: 'Sure, running.' },
      { type: 'tool-call', callId: 'call_1', name: 'shell', arguments: '{"cmd":', kind: 'function' },
    ]);
  });

  test('Responses over SSE: an item still streaming keeps its deltas', () => {
    const call = one(streaming({
      url: 'https://api.openai.com/v1/responses', request: { model: 'gpt-x', input: 'go', stream: true },
      sse: [
        { data: { type: 'response.created', response: { id: 'r1', model: 'gpt-x' } } },
        { data: { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm1', role: 'assistant', content: [] } } },
        { data: { type: 'response.output_text.delta', output_index: 0, item_id: 'm1', content_index: 0, delta: 'Hal' } },
        { data: { type: 'response.output_text.delta', output_index: 0, item_id: 'm1', content_index: 0, delta: 'f way' } },
        { data: { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc1', call_id: 'call_1', name: 'shell', arguments: '' } } },
        { data: { type: 'response.function_call_arguments.delta', output_index: 1, item_id: 'fc1', delta: '{"cmd":["l' } },
      ],
    }));
    assert.deepEqual(call.output.map((b) => (b.type === 'text' ? b.text : b.type === 'tool-call' ? `${b.name} ${b.arguments}` : b.type)),
      ['Half way', 'shell {"cmd":["l']);
  });

  test('Responses over a live WebSocket: the span without response.completed holds its deltas', () => {
    const calls = dissectExchange(wsCase('https://api.openai.com/v1/responses', {}, [
      { dir: 'in', data: { type: 'response.create', model: 'gpt-x', input: [{ role: 'user', content: 'go' }] } },
      { dir: 'out', data: { type: 'response.created', response: { id: 'r1' } } },
      { dir: 'out', data: { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id: 'fc1', call_id: 'call_1', name: 'shell', arguments: '' } } },
      { dir: 'out', data: { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc1', delta: '{"cmd":' } },
    ], false));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.endedAt, undefined);
    assert.deepEqual(calls[0]!.errors, []);
    assert.deepEqual(calls[0]!.output.map((b) => b.type === 'tool-call' && b.arguments), ['{"cmd":']);
  });

  test('once the exchange has ended, a stream without its end is still reported incomplete', () => {
    const calls = dissectExchange(httpCase({
      url: 'https://api.anthropic.com/v1/messages', request: { model: 'claude-x', messages: [], stream: true },
      sse: [{ event: 'message_start', data: { type: 'message_start', message: {} } }],
    }));
    assert.match(calls[0]!.errors.join(), /ended without message_stop/);
  });
});
