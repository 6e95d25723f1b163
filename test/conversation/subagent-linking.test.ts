// Subagents are linked to the exact tool call that started them, by content: the subagent's
// first prompt equals the Agent call's `prompt`, and its final answer is in the parent's
// tool_result. Never by order: the subagents' requests arrive interleaved, in reverse order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import type { SessionDetail, Step, Thread } from '../../src/conversation/types';
import type { LlmCall } from '../../src/llm/llm-call';
import {
  Clock, FullHistoryConversation, text, thinking, toolResult, toolUse,
} from '../support/llm-call-builder';

const SESSION = '33a9d683-ef38-4571-92b9-1ae2bf7a6be3';
const MAIN_SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude. (main agent prompt)";
const SUB_SYSTEM = 'You are an agent for Claude Code. Explore the codebase. (subagent prompt)';

function steps(thread: Thread): Step[] {
  return thread.turns.flatMap((t) => t.steps);
}

/** Main agent launches two Agent calls in one response; each subagent runs two requests. */
function parallelSubagents(promptA: string, promptB: string, order: 'reverse' | 'forward'): { calls: LlmCall[]; finalA: string; finalB: string } {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: MAIN_SYSTEM, clock, model: 'claude-opus-4-6' });
  main.say('<available-deferred-tools>\nAgent\nBash\n</available-deferred-tools>');
  main.say('<system-reminder>skills…</system-reminder>', 'Have one subagent explore the project and another research the company, then link both.');
  const main1 = main.request([
    thinking('Two agents in parallel.'),
    text("I'll launch both in parallel."),
    toolUse('toolu_A', 'Agent', { description: 'Explore project', subagent_type: 'Explore', prompt: promptA }),
    toolUse('toolu_B', 'Agent', { description: 'Research company', subagent_type: 'Explore', prompt: promptB }),
  ]);
  const finalA = 'Report A: the project is a proxy written in Go.';
  const finalB = 'Report B: the company builds developer tools.';
  const subA = new FullHistoryConversation({ sessionId: SESSION, system: SUB_SYSTEM, clock, model: 'claude-haiku-4-5' });
  const subB = new FullHistoryConversation({ sessionId: SESSION, system: SUB_SYSTEM, clock, model: 'claude-haiku-4-5' });
  subA.say(promptA);
  subB.say(promptB);
  const b1 = subB.request([toolUse('toolu_b1', 'Grep', { pattern: 'company' })]);
  const a1 = subA.request([toolUse('toolu_a1', 'Read', { file_path: '/src/main.go' })]);
  subB.results(toolResult('toolu_b1', 'no matches', true));
  subA.results(toolResult('toolu_a1', 'package main'));
  const b2 = subB.request([text(finalB)]);
  const a2 = subA.request([text(finalA)]);
  main.results(toolResult('toolu_A', `${finalA}\nagentId: a1b2 (use SendMessage to continue)`), toolResult('toolu_B', finalB));
  const main2 = main.request([text('Both agents are done. Here is the linked summary.')]);
  const calls = order === 'reverse' ? [main1, b1, a1, b2, a2, main2] : [main1, a1, b1, a2, b2, main2];
  return { calls, finalA, finalB };
}

function only(detail: SessionDetail | undefined, kind: Thread['kind']): Thread[] {
  assert.ok(detail);
  return detail.threads.filter((t) => t.kind === kind);
}

describe('subagent linking', () => {
  test('parallel Agent calls, subagent requests interleaved in reverse order: each linked to its exact call', () => {
    const promptA = 'Thoroughly explore the project at /home/u/proxy and report what it is.';
    const promptB = 'Research the company behind the project using web search.';
    const { calls, finalA, finalB } = parallelSubagents(promptA, promptB, 'reverse');
    const assembler = assemble(calls);
    assert.equal(assembler.sessions().length, 1);
    const detail = assembler.session(SESSION);
    const [main] = only(detail, 'main');
    const subagents = only(detail, 'subagent');
    assert.ok(main);
    assert.equal(subagents.length, 2);

    const byCall = new Map(subagents.map((t) => [t.parentToolCallId, t]));
    const a = byCall.get('toolu_A');
    const b = byCall.get('toolu_B');
    assert.ok(a && b, 'both subagents linked to a tool call');
    assert.equal(a.turns[0]!.prompt, promptA);
    assert.equal(b.turns[0]!.prompt, promptB);
    assert.equal(a.parentThreadId, main.id);
    assert.equal(b.parentThreadId, main.id);
    assert.ok(steps(a).some((s) => s.type === 'text' && s.text === finalA));
    assert.ok(steps(b).some((s) => s.type === 'text' && s.text === finalB));
    assert.equal(a.systemPrompt, SUB_SYSTEM);
    assert.equal(a.model, 'claude-haiku-4-5');

    // The main thread's Agent tool calls point at their subagent threads, and carry the report.
    const agentCalls = steps(main).filter((s) => s.type === 'tool_call' && s.name === 'Agent');
    assert.deepEqual(agentCalls.map((s) => [s.callId, s.subagentThreadId]), [['toolu_A', a.id], ['toolu_B', b.id]]);
    assert.match(agentCalls[0]!.output ?? '', /Report A/);
    // Tool calls inside subagents are paired with their results, errors included.
    const grep = steps(b).find((s) => s.type === 'tool_call' && s.name === 'Grep');
    assert.equal(grep?.output, 'no matches');
    assert.equal(grep?.isError, true);
    // Main thread: one turn; the subagents' calls are not in it.
    assert.equal(main.turns.length, 1);
    assert.equal(main.turns[0]!.llmCallIds.length, 2);
  });

  test('the same result whatever the arrival order', () => {
    const promptA = 'Thoroughly explore the project at /home/u/proxy and report what it is.';
    const promptB = 'Research the company behind the project using web search.';
    const reverse = assemble(parallelSubagents(promptA, promptB, 'reverse').calls).session(SESSION)!;
    const forward = assemble(parallelSubagents(promptA, promptB, 'forward').calls).session(SESSION)!;
    const links = (d: SessionDetail) => d.threads.filter((t) => t.kind === 'subagent').map((t) => [t.parentToolCallId, t.turns[0]!.prompt]).sort();
    assert.deepEqual(links(reverse), links(forward));
  });

  test('identical prompts: the final answer in the tool_result decides, never the order', () => {
    const prompt = 'Summarise the README in one paragraph.';
    const { calls, finalA, finalB } = parallelSubagents(prompt, prompt, 'reverse');
    const detail = assemble(calls).session(SESSION);
    const subagents = only(detail, 'subagent');
    assert.equal(subagents.length, 2);
    for (const thread of subagents) {
      const final = steps(thread).filter((s) => s.type === 'text').at(-1)?.text;
      assert.equal(thread.parentToolCallId, final === finalA ? 'toolu_A' : 'toolu_B');
    }
    assert.notEqual(finalA, finalB);
  });

  test('identical prompts before the results are known: not linked, candidates listed', () => {
    const prompt = 'Summarise the README in one paragraph.';
    const { calls } = parallelSubagents(prompt, prompt, 'reverse');
    const detail = assemble(calls.slice(0, -1)).session(SESSION);
    for (const thread of only(detail, 'subagent')) {
      assert.equal(thread.parentToolCallId, undefined);
      assert.deepEqual(thread.parentToolCallCandidates, ['toolu_A', 'toolu_B']);
      assert.equal(thread.parentThreadId, 'main');
    }
  });

  test('OpenCode: a child session named by task_id in the task result becomes a subagent thread', () => {
    const clock = new Clock();
    const common = { clock, client: 'opencode' as const, api: 'openai-responses' as const, provider: 'openai' as const, model: 'gpt-5.1' };
    const parent = new FullHistoryConversation({ ...common, sessionId: 'ses_parent', system: 'You are OpenCode, the best coding agent.' });
    const child = new FullHistoryConversation({ ...common, sessionId: 'ses_child1', system: 'You are OpenCode, the best coding agent.' });
    const prompt = 'You are a research assistant. Research Monadical and report.';
    parent.say('Use a subagent to research Monadical.');
    const p1 = parent.request([toolUse('call_task', 'task', { description: 'research', prompt, subagent_type: 'general' })]);
    child.say(prompt);
    const c1 = child.request([toolUse('call_fetch', 'webfetch', { url: 'https://example.com' })]);
    child.results(toolResult('call_fetch', 'page'));
    const c2 = child.request([text('Monadical is a software consultancy.')]);
    parent.results(toolResult('call_task', 'task_id: ses_child1 (for resuming)\n\n<task_result>\nMonadical is a software consultancy.\n</task_result>'));
    const p2 = parent.request([text('Done.')]);
    const assembler = assemble([p1, c1, c2, p2]);
    assert.deepEqual(assembler.sessions().map((s) => s.id), ['ses_parent']);
    const detail = assembler.session('ses_child1');
    assert.equal(detail?.id, 'ses_parent');
    const [sub] = only(detail, 'subagent');
    assert.equal(sub?.parentToolCallId, 'call_task');
    assert.equal(sub?.turns[0]?.prompt, prompt);
    assert.deepEqual(detail?.mergedSessionIds, ['ses_child1']);
  });

  test('a subagent request without a matching Agent call stays an unlinked subagent, not main', () => {
    const clock = new Clock();
    const main = new FullHistoryConversation({ sessionId: SESSION, system: MAIN_SYSTEM, clock });
    const stray = new FullHistoryConversation({ sessionId: SESSION, system: SUB_SYSTEM, clock });
    main.say('hello');
    stray.say('some prompt nobody spawned');
    const detail = assemble([main.request([text('hi')]), stray.request([text('ok')])]).session(SESSION);
    assert.equal(only(detail, 'main').length, 1);
    const [sub] = only(detail, 'subagent');
    assert.equal(sub?.parentToolCallId, undefined);
    assert.equal(sub?.parentToolCallCandidates, undefined);
  });
});
