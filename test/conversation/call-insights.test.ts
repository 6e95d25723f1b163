// What changed between calls and why the prompt cache missed (decision 68): from a real Claude Code
// session (greyproxy's captures: ToolSearch loading tools, then an hour's pause), and from built
// conversations that change one thing at a time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { renderMarkdownTranscript } from '../../src/conversation/markdown-transcript';
import type { CallInsight, SessionDetail } from '../../src/conversation/types';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { loadClientWs, loadGreyproxy } from '../llm/fixture-loader';
import {
  ChainedSocket, Clock, developer, FullHistoryConversation, text, toolMessage, toolResult, toolUse, usage, user,
} from '../support/llm-call-builder';

const MODEL = 'claude-sonnet-4-5-20250929';

function mainCalls(detail: SessionDetail): CallInsight[] {
  return detail.threads.find((t) => t.kind === 'main')!.calls;
}

describe('what changed between calls, and the prompt cache', () => {
  test('a real Claude Code session: ToolSearch adds tools, the billing line is not a change that matters, an hour\'s pause breaks the cache', () => {
    const calls = ['383', '384', '427', '428', '517'].flatMap((n) => dissectExchange(loadGreyproxy(n)));
    assert.deepEqual(calls[0]!.options, { max_tokens: 32000, thinking: { type: 'adaptive' }, output_config: { effort: 'medium' }, stream: true });
    assert.deepEqual(calls[0]!.cacheMarkers?.filter((m) => m.where !== 'messages'), [{ where: 'system', index: 1 }, { where: 'system', index: 2 }]);
    const detail = assemble(calls).session(assemble(calls).sessions()[0]!.id)!;
    const [first, second, third, last] = mainCalls(detail);
    assert.deepEqual(first!.cache?.causes, ['first-call']);
    assert.equal(first!.changes.previousCallId, undefined);

    assert.deepEqual(second!.changes.tools, { added: ['Agent', 'Read', 'WebSearch'], removed: [], changed: [], reordered: false });
    assert.equal(second!.changes.system?.billingHeaderOnly, true, 'only the cch= hash of the billing line changed');
    assert.equal(second!.cache?.missedTokens, undefined, 'it read all 5,333 tokens the first call wrote');
    assert.equal(second!.cache?.expectedReadTokens, 5333);
    assert.equal(third!.cache?.missedTokens, undefined);

    // 517 came 62 minutes after 427, past the five-minute lifetime of its breakpoints.
    assert.ok(last!.changes.gapMs! > 60 * 60_000);
    assert.deepEqual(last!.cache?.causes, ['lifetime-passed']);
    assert.equal(last!.cache?.missedTokens, 12933);
    assert.ok(last!.cache!.lostUsd! > 0, 'priced: Opus 4.6 cache writes over cache reads');
    assert.match(last!.cache!.explanation!, /Read 0 of the 12,933 tokens .* 1 h 2 min passed since the previous call, longer than the cache's lifetime \(5 minutes\)/);
    assert.deepEqual(last!.changes.history.messages.map((m) => [m.role, m.preview]), [['user', "What's the relation with monadical ?"]]);

    const cache = detail.summary.cache;
    assert.equal(cache.breaks, 1);
    assert.equal(cache.lostUsd, last!.cache!.lostUsd);
    assert.ok(cache.hitRate! > 0 && cache.hitRate! < 1);
    const markdown = renderMarkdownTranscript(detail);
    assert.match(markdown, /- Prompt cache: cache hit \d+% of [\d,]+ input tokens · 1 break · \$0\.\d+ lost/);
    assert.match(markdown, /cache break: cache lifetime passed \(12,933 tokens, \$0\.\d+ lost\)/);
  });

  test('each cause, one at a time: system prompt, tools, model, history restart, lifetime, and none found', () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'causes', system: 'You are a coding agent.\nBe brief.', clock, model: MODEL, tools: ['Bash'] });
    const calls: LlmCall[] = [];
    const ask = (prompt: string, read: number, write: number, o: Partial<LlmCall> = {}): LlmCall => {
      conv.say(prompt);
      const call = conv.request([text(`answer to ${prompt}`)], { usage: usage(10, 20, read, write) });
      Object.assign(call, o);
      calls.push(call);
      return call;
    };
    ask('one', 0, 4000);
    ask('two', 4000, 500);
    ask('three', 0, 4600, { system: 'You are a coding agent.\nBe thorough.' });
    ask('four', 0, 4700, { system: 'You are a coding agent.\nBe thorough.', tools: [{ name: 'Bash' }, { name: 'mcp__docs__search' }] });
    ask('five', 4700, 100, { system: 'You are a coding agent.\nBe thorough.', tools: [{ name: 'Bash' }, { name: 'mcp__docs__search' }], options: { max_tokens: 64000 } });
    ask('six', 0, 4900, { system: 'You are a coding agent.\nBe thorough.', tools: [{ name: 'Bash' }, { name: 'mcp__docs__search' }], model: 'claude-opus-4-5' });
    clock.next(12 * 60_000);
    ask('seven', 0, 5000, { system: 'You are a coding agent.\nBe thorough.', tools: [{ name: 'Bash' }, { name: 'mcp__docs__search' }], model: 'claude-opus-4-5' });
    ask('eight', 0, 5100, { system: 'You are a coding agent.\nBe thorough.', tools: [{ name: 'Bash' }, { name: 'mcp__docs__search' }], model: 'claude-opus-4-5' });
    // A compaction: the client starts over with a summary.
    const compacted = conv.request([text('compacted answer')], {
      input: [user('Summary of the conversation so far.'), user('nine')], usage: usage(10, 20, 0, 900), model: 'claude-opus-4-5',
      system: 'You are a coding agent.\nBe thorough.', tools: ['Bash', 'mcp__docs__search'],
    });
    calls.push(compacted);

    const insights = mainCalls(assemble(calls).session('causes')!);
    const causes = insights.map((c) => c.cache?.causes ?? []);
    assert.deepEqual(causes, [
      ['first-call'], [], ['system-changed'], ['tools-changed'], [], ['model-switched'], ['lifetime-passed'], ['unexplained'], ['history-edited'],
    ]);
    assert.deepEqual(insights[2]!.changes.system?.hunks[0]!.lines, [' You are a coding agent.', '-Be brief.', '+Be thorough.']);
    assert.deepEqual(insights[3]!.changes.tools?.added, ['mcp__docs__search']);
    assert.deepEqual(insights[4]!.changes.options, [{ name: 'max_tokens', after: 64000 }], 'an option is shown, not taken for a cause');
    assert.deepEqual(insights[5]!.changes.model, { before: MODEL, after: 'claude-opus-4-5' });
    assert.match(insights[6]!.cache!.explanation!, /12 min passed/);
    assert.match(insights[7]!.cache!.explanation!, /kept the previous prefix unchanged/);
    assert.equal(insights[8]!.changes.history.rewritten?.restarted, true);
    assert.equal(insights[8]!.changes.history.kept, 0);
    assert.equal(insights[8]!.cache?.expectedReadTokens, 910, 'no more than the compacted prompt itself could have read');
    assert.equal(insights[1]!.changes.history.added, 1, 'the new prompt: the first answer it re-sends is not new');
    assert.deepEqual(insights[1]!.changes.history.messages.map((m) => [m.role, m.preview]), [['user', 'two']]);
  });

  test('a one-hour breakpoint keeps a 12-minute pause from being a break', () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'ttl', system: 'S', clock, model: MODEL });
    conv.say('one');
    const a = conv.request([text('a')], { usage: usage(10, 20, 0, 3000) });
    clock.next(12 * 60_000);
    conv.say('two');
    const b = conv.request([text('b')], { usage: usage(10, 20, 0, 3100) });
    a.cacheMarkers = b.cacheMarkers = [{ where: 'system', index: 0, ttl: '1h' }];
    const [, second] = mainCalls(assemble([a, b]).session('ttl')!);
    assert.deepEqual(second!.cache?.causes, ['unexplained'], 'the lifetime was an hour: the pause is not the cause');
  });

  test('the real Codex over its WebSocket (codex/04): the frame chained by previous_response_id adds only its tool output', () => {
    const calls = dissectExchange(loadClientWs('codex/04-ws-custom-provider-tool', 1));
    assert.equal(calls[2]!.input.length, 1, 'the wire carried one new item');
    assert.deepEqual(calls[2]!.options?.reasoning, { effort: 'medium' });
    const assembler = assemble(calls);
    const [first, chained] = mainCalls(assembler.session(assembler.sessions()[0]!.id)!);
    assert.equal(first!.changes.previousCallId, undefined);
    assert.equal(chained!.changes.previousCallId, first!.callId);
    assert.equal(chained!.changes.history.kept, chained!.changes.history.previous, 'the whole previous request and answer, kept by the chain');
    assert.equal(chained!.changes.history.added, 1);
    assert.match(chained!.changes.history.messages[0]!.preview, /^\(result\) .*fake-tool-ok$/);
    assert.equal(chained!.changes.system, undefined, 'the chain re-sends no instructions, and nothing changed');
    assert.equal(chained!.changes.options, undefined);
  });

  test('Codex chaining previous_response_id: each frame\'s new input only, and no break while the cache keeps up', () => {
    const clock = new Clock();
    const socket = new ChainedSocket({ sessionId: 'codex-chain', clock, tag: 'c' });
    const calls = [
      socket.prewarm([developer('You are Codex.')]),
      socket.send([user('run echo')], [toolUse('call_1', 'exec_command', { cmd: 'echo hi' })], { usage: usage(1200, 30, 0) }),
      socket.send([toolMessage(toolResult('call_1', 'hi'))], [toolUse('call_2', 'exec_command', { cmd: 'ls' })], { usage: usage(1400, 30, 1152) }),
      socket.send([toolMessage(toolResult('call_2', 'a b'))], [text('done')], { usage: usage(1600, 30, 0) }),
    ];
    const insights = mainCalls(assemble(calls).session('codex-chain')!);
    assert.equal(insights.length, 3);
    assert.deepEqual(insights[1]!.changes.history.messages.map((m) => [m.role, m.preview]), [['tool', '(result) hi']]);
    assert.equal(insights[1]!.changes.history.added, 1);
    assert.equal(insights[1]!.changes.history.kept, insights[1]!.changes.history.previous, 'the chain re-sends nothing and drops nothing');
    assert.equal(insights[1]!.cache?.expectedReadTokens, 1152, 'the previous prompt, in steps of 128');
    assert.equal(insights[1]!.cache?.missedTokens, undefined);
    assert.deepEqual(insights[2]!.cache?.causes, ['unexplained']);
    assert.equal(insights[2]!.cache?.missedTokens, 1400 - 1400 % 128);
  });
});

describe('options with hostile names', () => {
  test('options named toString, constructor or __proto__ are compared as what they are', () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'proto', system: 'S', clock, model: MODEL });
    conv.say('one');
    const a = conv.request([text('a')], { usage: usage(10, 20, 0, 3000) });
    conv.say('two');
    const b = conv.request([text('b')], { usage: usage(10, 20, 3000, 10) });
    a.options = Object.fromEntries([['toString', 1], ['__proto__', { x: 1 }]]);
    b.options = Object.fromEntries([['constructor', 'c']]);
    const detail = assemble([a, b]).session('proto')!;
    assert.deepEqual(mainCalls(detail)[1]!.changes.options, [
      { name: '__proto__', before: { x: 1 } }, { name: 'constructor', after: 'c' }, { name: 'toString', before: 1 },
    ]);
    assert.match(renderMarkdownTranscript(detail), /toString 1 → \(unset\)/);
  });
});
