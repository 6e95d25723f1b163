// The span builder on its own (decision 72): ids, parents, the completion times the live export
// sends by, bursts of a thread, content and its size limit, errors. Sessions are built by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import type { CallInsight, SessionDetail, Step, Thread, Turn, UsageTotals } from '../../src/conversation/types';
import { GEN_AI, METRIC, OPERATION } from '../../src/telemetry/genai-conventions';
import { sessionSpans, type SpanRecord } from '../../src/telemetry/genai-spans';
import { spanIdFor, traceIdFor } from '../../src/telemetry/span-ids';

const usage = (input: number, output: number, read = 0, write = 0): UsageTotals => ({ inputTokens: input, outputTokens: output, cacheReadTokens: read, cacheWriteTokens: write, reasoningTokens: 0 });

function call(id: string, startedAt: number, endedAt: number, more: Partial<CallInsight['outcome']> = {}): CallInsight {
  return { callId: id, turnIndex: 0, startedAt, model: 'claude-x', usage: usage(10, 5, 100, 1), costUsd: 0.01, changes: { history: { kept: 0, previous: 0, added: 1, messages: [] } },
    outcome: { endedAt, timeToFirstChunkMs: 40, stopReason: 'end_turn', stream: true, ...more } };
}

function thread(id: string, calls: CallInsight[], steps: Step[], more: Partial<Thread> = {}): Thread {
  const turn: Turn = { index: 0, prompt: 'do it', startedAt: calls[0]!.startedAt, endedAt: calls.at(-1)!.outcome.endedAt!, usage: usage(0, 0), costUsd: 0, unpricedModels: [], steps,
    llmCallIds: calls.map((c) => c.callId), retries: 0, models: ['claude-x'] };
  return { id, kind: 'main', tools: ['Bash'], toolDefinitions: [{ name: 'Bash', description: 'Run' }], turns: [turn], usage: usage(0, 0), costUsd: 0, unpricedModels: [],
    startedAt: turn.startedAt, endedAt: turn.endedAt, segments: 1, calls, systemPrompt: 'Be brief.', ...more };
}

function session(threads: Thread[]): SessionDetail {
  return { id: 'sess-1', client: 'claude-code', provider: 'anthropic', threads, mergedSessionIds: [], assemblerVersion: 7,
    summary: {} as SessionDetail['summary'] };
}

/** Call c1 asks for a tool, c2 carries its result and answers; then after a long pause c3. */
function toolSession(): SessionDetail {
  const steps: Step[] = [
    { type: 'text', role: 'assistant', text: 'I will run it.', llmCallId: 'c1' },
    { type: 'tool_call', role: 'assistant', name: 'Bash', callId: 'tu1', arguments: '{"command":"ls"}', llmCallId: 'c1' },
    { type: 'tool_result', role: 'tool', name: 'Bash', callId: 'tu1', output: 'a.txt', llmCallId: 'c2' },
    { type: 'text', role: 'assistant', text: 'There is a.txt.', llmCallId: 'c2' },
    { type: 'text', role: 'assistant', text: 'Later answer.', llmCallId: 'c3' },
  ];
  return session([thread('main', [call('c1', 1000, 2000), call('c2', 2100, 3000), call('c3', 900_000, 901_000)], steps)]);
}

const byOp = (spans: SpanRecord[], op: string) => spans.filter((s) => s.attributes[GEN_AI.operationName] === op);

describe('GenAI spans of a session', () => {
  it('copies the conventions\' names as the package publishes them', () => {
    const published = new Set(Object.entries(incubating).filter(([k]) => k.startsWith('ATTR_GEN_AI_') || k.startsWith('METRIC_GEN_AI_')).map(([, v]) => v));
    for (const name of [...Object.values(GEN_AI), ...Object.values(METRIC)]) assert.ok(published.has(name), name);
    assert.equal(incubating.GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, OPERATION.invokeAgent);
    assert.equal(incubating.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL, OPERATION.executeTool);
    assert.equal(incubating.GEN_AI_OPERATION_NAME_VALUE_CHAT, OPERATION.chat);
  });

  it('derives ids from the session, so the same session gives the same spans', () => {
    const a = sessionSpans(toolSession(), { content: false, legacyNames: false, idleMs: 60_000 });
    const b = sessionSpans(toolSession(), { content: false, legacyNames: false, idleMs: 60_000 });
    assert.deepEqual(a, b);
    assert.ok(a.every((s) => s.traceId === traceIdFor('sess-1') && /^[0-9a-f]{16}$/.test(s.spanId)));
    assert.equal(new Set(a.map((s) => s.spanId)).size, a.length);
    assert.equal(byOp(a, 'chat')[0]!.spanId, spanIdFor('sess-1', 'call', 'c1'));
  });

  it('cuts a thread where it was quiet for the idle time, and says when each span is complete', () => {
    const spans = sessionSpans(toolSession(), { content: false, legacyNames: false, idleMs: 60_000 });
    const agents = byOp(spans, 'invoke_agent');
    assert.equal(agents.length, 2, 'c3 came after a pause: a second invocation');
    assert.deepEqual(agents.map((a) => [a.startMs, a.endMs, a.readyAt]), [[1000, 3000, 63_000], [900_000, 901_000, 961_000]]);
    const [tool] = byOp(spans, 'execute_tool');
    assert.deepEqual([tool!.startMs, tool!.endMs, tool!.readyAt], [2000, 2100, 3000], 'from the asking call\'s end to the carrying call\'s start; complete when the carrying call ended');
    assert.equal(tool!.parentSpanId, agents[0]!.spanId);
    const chats = byOp(spans, 'chat');
    assert.deepEqual(chats.map((c) => c.readyAt), [2000, 3000, 901_000]);
    assert.deepEqual(chats.map((c) => c.parentSpanId), [agents[0]!.spanId, agents[0]!.spanId, agents[1]!.spanId]);
  });

  it('gives every span to exactly one window of completion times', () => {
    const all = sessionSpans(toolSession(), { content: false, legacyNames: false, idleMs: 60_000 });
    const cuts = [-Infinity, 2000, 2999, 3000, 63_000, 900_000, Infinity];
    const windows = cuts.slice(1).map((upTo, i) => sessionSpans(toolSession(), { content: false, legacyNames: false, idleMs: 60_000, after: cuts[i], upTo }));
    assert.deepEqual(windows.flat().map((s) => s.spanId).sort(), all.map((s) => s.spanId).sort());
  });

  it('counts cached input in gen_ai.usage.input_tokens and keeps the parts', () => {
    const [chat] = byOp(sessionSpans(toolSession(), { content: false, legacyNames: true }), 'chat');
    assert.equal(chat!.attributes[GEN_AI.usageInputTokens], 111);
    assert.equal(chat!.attributes[GEN_AI.usageCacheReadInputTokens], 100);
    assert.equal(chat!.attributes[GEN_AI.usageCacheCreationInputTokens], 1);
    assert.equal(chat!.attributes[GEN_AI.responseTimeToFirstChunk], 0.04);
    assert.equal(chat!.attributes[GEN_AI.system], 'anthropic', 'the deprecated name unless the latest conventions are asked for');
    assert.equal(byOp(sessionSpans(toolSession(), { content: false, legacyNames: false }), 'chat')[0]!.attributes[GEN_AI.system], undefined);
  });

  it('sends content only when asked, as the conventions\' messages, newest kept under the limit', () => {
    const without = sessionSpans(toolSession(), { content: false, legacyNames: false });
    assert.ok(without.every((s) => !Object.keys(s.attributes).some((k) => k.includes('messages') || k.includes('arguments') || k.includes('instructions'))));
    const spans = sessionSpans(toolSession(), { content: true, legacyNames: false });
    const second = byOp(spans, 'chat')[1]!;
    const input = JSON.parse(second.attributes[GEN_AI.inputMessages] as string) as Array<{ role: string; parts: Array<{ type: string }> }>;
    assert.deepEqual(input.map((m) => [m.role, m.parts.map((p) => p.type)]), [['user', ['text']], ['assistant', ['text', 'tool_call']], ['tool', ['tool_call_response']]]);
    const output = JSON.parse(second.attributes[GEN_AI.outputMessages] as string) as Array<{ finish_reason: string; parts: Array<{ content: string }> }>;
    assert.equal(output[0]!.parts[0]!.content, 'There is a.txt.');
    assert.equal(output[0]!.finish_reason, 'end_turn');
    assert.equal(second.attributes[GEN_AI.systemInstructions], JSON.stringify([{ type: 'text', content: 'Be brief.' }]));
    const [tool] = byOp(spans, 'execute_tool');
    assert.equal(tool!.attributes[GEN_AI.toolCallArguments], '{"command":"ls"}');
    assert.equal(tool!.attributes[GEN_AI.toolCallResult], 'a.txt');
    const whole = (second.attributes[GEN_AI.inputMessages] as string).length;
    const small = byOp(sessionSpans(toolSession(), { content: true, legacyNames: false, contentLimit: { maxChars: whole - 1 } }), 'chat')[1]!;
    assert.ok((small.attributes[GEN_AI.inputMessages] as string).length <= whole - 1);
    const kept = JSON.parse(small.attributes[GEN_AI.inputMessages] as string) as Array<{ role: string; parts: Array<{ content?: string }> }>;
    assert.match(kept[0]!.parts[0]!.content!, /^\[\d+ earlier messages left out: over the attribute size limit\]$/);
    assert.equal(kept.at(-1)!.role, 'tool', 'the newest message is kept');
  });

  it('marks failed calls and tools as errors, and a tool never answered as such', () => {
    const detail = toolSession();
    const main = detail.threads[0]!;
    main.calls[2] = call('c3', 900_000, 901_000, { status: 529, error: 'Overloaded', stopReason: undefined });
    (main.turns[0]!.steps[2] as Step).isError = true;
    main.turns[0]!.steps.push({ type: 'tool_call', role: 'assistant', name: 'Read', callId: 'tu2', llmCallId: 'c3' });
    const spans = sessionSpans(detail, { content: false, legacyNames: false, idleMs: 60_000 });
    const failed = byOp(spans, 'chat')[2]!;
    assert.deepEqual(failed.status, { code: 'error', message: 'Overloaded' });
    assert.equal(failed.attributes['error.type'], '529');
    const [bash, read] = byOp(spans, 'execute_tool');
    assert.equal(bash!.attributes['error.type'], 'tool_error');
    assert.equal(read!.attributes['llm_capture.tool.result_seen'], false);
    assert.deepEqual([read!.endMs, read!.readyAt], [901_000, 961_000], 'closed with its invocation');
  });

  it('makes one span of a tool call that a later request re-sent in another form', () => {
    const detail = toolSession();
    const steps = detail.threads[0]!.turns[0]!.steps;
    // What the assembly makes of history whose tool_use input differs from the answer: another step, the same id.
    steps.push({ type: 'tool_call', role: 'assistant', name: 'Bash', callId: 'tu1', arguments: '{"command": "ls"}', llmCallId: 'c3' });
    const tools = byOp(sessionSpans(detail, { content: true, legacyNames: false, idleMs: 60_000 }), 'execute_tool');
    assert.equal(tools.length, 1);
    assert.deepEqual([tools[0]!.startMs, tools[0]!.endMs, tools[0]!.attributes[GEN_AI.toolCallArguments]], [2000, 2100, '{"command":"ls"}']);
  });

  it('nests a subagent under the tool call that started it, and a side call under the main invocation', () => {
    const detail = toolSession();
    detail.threads[0]!.turns[0]!.steps[1]!.subagentThreadId = 'agent:tu1';
    const sub = thread('agent:tu1', [call('s1', 2010, 2050)], [{ type: 'text', role: 'assistant', text: 'sub', llmCallId: 's1' }], { kind: 'subagent', parentToolCallId: 'tu1', parentThreadId: 'main' });
    const side: Thread = { ...thread('side:title', [call('t1', 500, 600)], []), kind: 'side', sideKind: 'title', calls: [] };
    side.turns[0] = { ...side.turns[0]!, llmCallIds: ['t1'], outcome: { endedAt: 600 } };
    detail.threads.push(sub, side);
    const spans = sessionSpans(detail, { content: false, legacyNames: false, idleMs: 60_000 });
    const tool = byOp(spans, 'execute_tool')[0]!;
    const subAgent = byOp(spans, 'invoke_agent').find((s) => s.attributes[GEN_AI.agentId] === 'agent:tu1')!;
    assert.equal(subAgent.parentSpanId, tool.spanId);
    assert.equal(subAgent.name, 'invoke_agent claude-code subagent');
    const title = spans.find((s) => s.attributes['llm_capture.side'] === 'title')!;
    assert.equal(title.parentSpanId, byOp(spans, 'invoke_agent')[0]!.spanId, 'a title asked before the first call goes under the first invocation');
  });
});
