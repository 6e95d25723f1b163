// Tool arguments rebuilt from `input_json_delta` and
// `function_call_arguments.delta` fragments equal what the client resends in its next request.
// For the Responses API the same is shown with every event that repeats the final arguments
// (`.done`, `output_item.done`, `response.completed`) removed, so only the deltas can supply them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { DissectInput } from '../../src/llm/dissector';
import type { ContentBlock } from '../../src/llm/llm-call';
import { loadClientHttp, loadClientWs, loadGreyproxy, readJson, WIRE } from './fixture-loader';

type ToolCall = Extract<ContentBlock, { type: 'tool-call' }>;

function outputCalls(input: DissectInput, index = 0): ToolCall[] {
  const call = dissectExchange(input)[index];
  assert.ok(call);
  assert.deepEqual(call.errors, []);
  return call.output.filter((b): b is ToolCall => b.type === 'tool-call');
}

/**
 * Drops every event that repeats a final value and empties `response.completed`'s output list
 * (keeping the event itself, which ends the response), so the deltas are the only source left.
 */
function deltasOnly(input: DissectInput): DissectInput {
  const repeats = new Set(['response.function_call_arguments.done', 'response.output_item.done', 'response.custom_tool_call_input.done']);
  const sseEvents = (input.sseEvents ?? []).flatMap((e) => {
    const data = JSON.parse(e.data) as { type: string; response?: { output?: unknown[] } };
    if (repeats.has(data.type)) return [];
    if (data.type === 'response.completed' && data.response) data.response.output = [];
    return [{ ...e, data: JSON.stringify(data) }];
  });
  assert.ok(sseEvents.length < (input.sseEvents?.length ?? 0));
  return { ...input, sseEvents };
}

interface AnthropicBody { messages: { role: string; content: string | { type: string; id?: string; input?: unknown; tool_use_id?: string }[] }[] }
interface ResponsesBody { input: { type?: string; call_id?: string; arguments?: string; name?: string }[] }

/** The `tool_use` blocks of the assistant turns in a resent Anthropic history. */
function resentToolUses(body: AnthropicBody): { id?: string; input?: unknown }[] {
  return body.messages.flatMap((m) => (m.role === 'assistant' && Array.isArray(m.content) ? m.content.filter((b) => b.type === 'tool_use') : []));
}

describe('tool arguments rebuilt from deltas equal the arguments resent next', () => {
  for (const [scenario, first, next] of [['claude/02-tool-thinking', '01', '02'], ['opencode/01-anthropic', '02', '03']] as const) {
    test(`${scenario}: input_json_delta fragments of ${first}-response.sse = tool_use.input in ${next}-request.json`, () => {
      const rebuilt = outputCalls(loadClientHttp(scenario, first));
      const resent = resentToolUses(readJson<{ body: AnthropicBody }>(join(WIRE, 'clients', scenario, `${next}-request.json`)).body);
      assert.equal(rebuilt.length, 1);
      assert.equal(resent.length, 1);
      assert.equal(rebuilt[0]!.callId, resent[0]!.id);
      assert.deepEqual(JSON.parse(rebuilt[0]!.arguments), resent[0]!.input);
      // Claude Code and OpenCode resend the object compactly, so even the text is the same.
      assert.equal(rebuilt[0]!.arguments, JSON.stringify(resent[0]!.input));
      // And the next request, decoded, shows the same call in its history.
      const history = dissectExchange(loadClientHttp(scenario, next))[0]!.input.flatMap((m) => m.content);
      const again = history.find((b): b is ToolCall => b.type === 'tool-call');
      assert.equal(again?.arguments, rebuilt[0]!.arguments);
    });
  }

  test('greyproxy 383 → 384 → 427: ToolSearch and two parallel Agent calls, fragments with spaces after the colons', () => {
    for (const [first, next, count] of [['383', '384', 1], ['384', '427', 2]] as const) {
      const rebuilt = outputCalls(loadGreyproxy(first));
      const resent = resentToolUses(JSON.parse(readJson<{ request_body: string }>(join(WIRE, 'greyproxy', `${next}.json`)).request_body) as AnthropicBody)
        .filter((b) => rebuilt.some((r) => r.callId === b.id));
      assert.equal(rebuilt.length, count);
      assert.equal(resent.length, count, `${next} resends every call of ${first}`);
      for (const call of rebuilt) {
        assert.deepEqual(JSON.parse(call.arguments), resent.find((b) => b.id === call.callId)?.input, `${first} ${call.name} ${call.callId}`);
      }
    }
  });

  for (const [scenario, first, next] of [['codex/03-http-sse-custom-provider', '01', '02'], ['opencode/02-openai-http', '02', '03']] as const) {
    test(`${scenario}: function_call_arguments.delta of ${first}-response.sse = function_call.arguments in ${next}-request.json`, () => {
      const resent = readJson<{ body: ResponsesBody }>(join(WIRE, 'clients', scenario, `${next}-request.json`)).body.input
        .filter((item) => item.type === 'function_call');
      assert.equal(resent.length, 1);
      for (const input of [loadClientHttp(scenario, first), deltasOnly(loadClientHttp(scenario, first))]) {
        const rebuilt = outputCalls(input);
        assert.equal(rebuilt.length, 1);
        assert.equal(rebuilt[0]!.callId, resent[0]!.call_id);
        assert.equal(rebuilt[0]!.name, resent[0]!.name);
        assert.equal(rebuilt[0]!.arguments, resent[0]!.arguments, 'the exact JSON text');
      }
    });
  }

  test('greyproxy openai_1166: three parallel function calls rebuilt from deltas alone equal the final arguments', () => {
    // 1170 belongs to another subagent session (its prompt_cache_key differs), so 1166's calls are
    // never resent; the final arguments are the ones in response.completed.
    const full = outputCalls(loadGreyproxy('openai_1166'));
    const fromDeltas = outputCalls(deltasOnly(loadGreyproxy('openai_1166')));
    assert.equal(full.length, 3);
    assert.deepEqual(fromDeltas.map((c) => [c.callId, c.name, c.arguments]), full.map((c) => [c.callId, c.name, c.arguments]));
    assert.equal(full[1]!.arguments, '{"url":"https://greyhaven.ai","format":"markdown","timeout":60}');
  });

  test('greyproxy openai_1170: the function_call resent in the history keeps its exact arguments text', () => {
    const call = dissectExchange(loadGreyproxy('openai_1170'))[0]!;
    const resent = (JSON.parse(readJson<{ request_body: string }>(join(WIRE, 'greyproxy', 'openai_1170.json')).request_body) as ResponsesBody)
      .input.find((item) => item.type === 'function_call');
    const decoded = call.input.flatMap((m) => m.content).find((b): b is ToolCall => b.type === 'tool-call');
    assert.equal(decoded?.arguments, resent?.arguments);
    assert.equal(decoded?.callId, 'call_XNYBVYecjtpEPpG6mogKiZL7');
  });

  test('codex/04 over WebSocket: arguments from deltas; the next frame resends only the output for that call_id', () => {
    const calls = dissectExchange(loadClientWs('codex/04-ws-custom-provider-tool', 1));
    const toolCall = calls[1]!.output[0];
    assert.equal(toolCall?.type, 'tool-call');
    assert.equal(toolCall.type === 'tool-call' && toolCall.arguments, '{"cmd":"echo fake-tool-ok"}');
    const result = calls[2]!.input[0]!.content[0];
    assert.equal(result?.type === 'tool-result' && result.callId, toolCall.type === 'tool-call' && toolCall.callId);
  });
});
