// OpenAI Responses over a WebSocket: one call per response.create … response.completed span, many
// per socket; the prewarm; previous_response_id chains with only the new items as input;
// additional_tools namespaces; custom_tool_call; the timings of each span.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import { loadClientWs } from './fixture-loader';
import { wsCase } from './synthetic';

const RESPONSES = 'https://api.openai.com/v1/responses';

describe('Responses over WebSocket', () => {
  test('codex/01 conn2: prewarm, a code-mode tool turn, and the answer, chained by response ids', () => {
    const input = loadClientWs('codex/01-ws-default-provider', 2);
    const calls = dissectExchange(input);
    const id = input.exchange.id;
    assert.deepEqual(calls.map((c) => c.id), [`${id}:0`, `${id}:1`, `${id}:2`]);
    assert.deepEqual(calls.map((c) => c.transport), ['websocket', 'websocket', 'websocket']);
    assert.equal(calls[1]!.identity.previousResponseId, calls[0]!.identity.responseId);
    assert.equal(calls[2]!.identity.previousResponseId, calls[1]!.identity.responseId);

    // The tools arrive inside an additional_tools input item, namespaced; "functions" is the bare namespace.
    const tools = calls[1]!.tools;
    assert.deepEqual(tools.slice(0, 2).map((t) => [t.name, t.kind]), [['exec', 'custom'], ['wait', 'function']]);
    assert.ok(tools.some((t) => t.name === 'collaboration.spawn_agent'));
    assert.ok(!calls[1]!.input.some((m) => m.content.some((b) => b.type === 'unknown')), 'the tools item is not shown as a message');

    // The call is a custom tool whose input is JavaScript: kept as text, never parsed.
    const call = calls[1]!.output[0];
    assert.equal(call?.type, 'tool-call');
    if (call?.type !== 'tool-call') return;
    assert.equal(call.kind, 'custom');
    assert.equal(call.name, 'exec');
    assert.equal(call.arguments, "const r = await tools.exec_command({ cmd: 'echo fake-tool-ok' });\ntext(r);");
    assert.equal(call.input, undefined);

    // The next frame sends only the output of that call: the model's own call is not resent.
    assert.equal(calls[2]!.input.length, 1);
    const result = calls[2]!.input[0]!;
    assert.equal(result.role, 'tool');
    assert.deepEqual(result.content.map((b) => b.type === 'tool-result' && [b.callId, b.kind]), [[call.callId, 'custom']]);
    const output = result.content[0]!.type === 'tool-result' ? result.content[0]!.output : '';
    assert.ok(output.startsWith('Script completed\nWall time 0.1 seconds\nOutput:\n'));
    assert.ok(output.includes('"output":"fake-tool-ok\\n"'));
  });

  test('a chained frame keeps the system prompt of the call it continues (codex/04: the prompt came with the prewarm)', () => {
    const calls = dissectExchange(loadClientWs('codex/04-ws-custom-provider-tool', 1));
    assert.ok(calls[0]!.system?.startsWith('You are Codex, a coding agent based on GPT-5.'));
    assert.equal(calls[1]!.system, calls[0]!.system);
    assert.equal(calls[2]!.system, calls[0]!.system);
    // …while its input is only what the frame sent: the skills list and the two user messages.
    assert.ok(calls[1]!.input[0]!.content[0]!.type === 'text' && calls[1]!.input[0]!.content[0]!.text.startsWith('<skills_instructions>'));
  });

  test('each span is timed from its response.create to its end, with the first delta in between', () => {
    const { exchange, wsMessages } = wsCase(RESPONSES, { originator: 'codex_exec' }, [
      { dir: 'in', data: { type: 'response.create', model: 'm', input: [], generate: false } },
      { dir: 'out', data: { type: 'response.created', response: { id: 'r0' } } },
      { dir: 'out', data: { type: 'response.completed', response: { id: 'r0', status: 'completed', output: [] } } },
      { dir: 'in', data: { type: 'response.create', model: 'm', previous_response_id: 'r0', input: [{ type: 'message', role: 'user', content: 'hi' }] } },
      { dir: 'out', data: { type: 'response.created', response: { id: 'r1' } } },
      { dir: 'out', data: { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm1', role: 'assistant', content: [] } } },
      { dir: 'out', data: { type: 'response.output_text.delta', output_index: 0, item_id: 'm1', content_index: 0, delta: 'Hel' } },
      { dir: 'out', data: { type: 'response.output_text.delta', output_index: 0, item_id: 'm1', content_index: 0, delta: 'lo' } },
      { dir: 'out', data: { type: 'response.completed', response: { id: 'r1', status: 'completed', output: [], usage: { input_tokens: 3, output_tokens: 2 } } } },
    ]);
    const calls = dissectExchange({ exchange, wsMessages });
    const t = wsMessages!.map((m) => m.time);
    assert.deepEqual(calls.map((c) => [c.startedAt, c.firstTokenAt, c.endedAt]), [[t[0], undefined, t[2]], [t[3], t[6], t[8]]]);
    assert.deepEqual(calls[1]!.output, [{ type: 'text', text: 'Hello' }]);
    assert.deepEqual(calls[1]!.usage, { inputTokens: 3, outputTokens: 2 });
    assert.equal(calls[0]!.side, 'prewarm');
    assert.deepEqual(calls.flatMap((c) => c.errors), []);
  });

  test('a span still streaming on a live socket is not an error; a new create before completion is', () => {
    const frames = [
      { dir: 'in' as const, data: { type: 'response.create', model: 'm', input: [] } },
      { dir: 'out' as const, data: { type: 'response.created', response: { id: 'r0' } } },
    ];
    const live = dissectExchange(wsCase(RESPONSES, {}, frames, false));
    assert.deepEqual(live[0]!.errors, []);
    assert.equal(live[0]!.endedAt, undefined);
    const overlapped = dissectExchange(wsCase(RESPONSES, {}, [...frames, frames[0]!], false));
    assert.equal(overlapped.length, 2);
    assert.deepEqual(overlapped[0]!.errors, ['A new response.create was sent before this response completed.']);
  });

  test('a response.failed on a socket ends its span with the error; the next span is independent', () => {
    const calls = dissectExchange(wsCase(RESPONSES, {}, [
      { dir: 'in', data: { type: 'response.create', model: 'm', input: [] } },
      { dir: 'out', data: { type: 'response.failed', response: { id: 'r0', status: 'failed', error: { code: 'server_error', message: 'boom' } } } },
      { dir: 'in', data: { type: 'response.create', model: 'm', input: [] } },
      { dir: 'out', data: { type: 'response.completed', response: { id: 'r1', status: 'completed', output: [] } } },
    ]));
    assert.deepEqual(calls.map((c) => c.errors), [['The response failed: server_error: boom'], []]);
  });
});
