// Codex over WebSocket: a prewarm, then frames that carry previous_response_id and only new
// items (the model's own function_call is not re-sent). The conversation is rebuilt from the
// chain. A `resume` process sends the whole history again on the same session id: one session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import type { SessionDetail, Thread } from '../../src/conversation/types';
import type { ContentBlock, LlmCall, Message } from '../../src/llm/llm-call';
import {
  assistant, ChainedSocket, Clock, developer, llmCall, reasoning, text, toolMessage, toolResult, toolUse, usage, user,
} from '../support/llm-call-builder';

const SESSION = '01a20f69-e86b-74c1-9579-d1de4d71ab64';
const SYSTEM = 'You are Codex, a coding agent based on GPT-5.';
const SKILLS = '<skills_instructions>\n## Skills\n…</skills_instructions>';
const ENV = '<environment_context>\n  <cwd>/home/dev/work</cwd>\n</environment_context>';

const execCall = (id: string, cmd: string): ContentBlock => toolUse(id, 'exec_command', { cmd });

interface Scenario {
  calls: LlmCall[];
  /** The whole history as a resumed process would send it, ending with a new prompt. */
  resumed: Message[];
  clock: Clock;
}

function firstProcess(): Scenario {
  const clock = new Clock();
  const socket = new ChainedSocket({ sessionId: SESSION, clock, tag: 'p1' });
  const calls = [
    socket.prewarm([developer(SYSTEM)]),
    socket.send([developer(SKILLS), user(ENV), user('please run echo')], [reasoning('rs_1'), execCall('call_1', 'echo fake-tool-ok')]),
    socket.send([toolMessage(toolResult('call_1', 'fake-tool-ok'))], [execCall('call_2', 'ls')]),
    socket.send([toolMessage(toolResult('call_2', 'exit 2', true))], [text('Ran echo; ls failed.')]),
  ];
  const resumed: Message[] = [
    developer(SYSTEM), developer(SKILLS), user(ENV), user('please run echo'),
    assistant(reasoning('rs_1'), execCall('call_1', 'echo fake-tool-ok')), toolMessage(toolResult('call_1', 'fake-tool-ok')),
    assistant(execCall('call_2', 'ls')), toolMessage(toolResult('call_2', 'exit 2', true)),
    assistant(text('Ran echo; ls failed.')), user(ENV), user('now run pwd'),
  ];
  return { calls, resumed, clock };
}

function conversation(detail: SessionDetail | undefined): Thread {
  const main = detail?.threads.find((t) => t.kind === 'main');
  assert.ok(main, 'a main thread');
  return main;
}

function checkResumed(detail: SessionDetail | undefined): void {
  const main = conversation(detail);
  assert.deepEqual(main.turns.map((t) => t.prompt), ['please run echo', 'now run pwd']);
  assert.equal(main.segments, 1, 'the resumed history continues the chain, no restart');
  const steps = main.turns.flatMap((t) => t.steps);
  const calls = steps.filter((s) => s.type === 'tool_call');
  assert.deepEqual(calls.map((s) => [s.callId, s.output, s.isError]), [
    ['call_1', 'fake-tool-ok', false], ['call_2', 'exit 2', true], ['call_3', '/home/dev/work', false],
  ]);
  assert.equal(steps.filter((s) => s.type === 'text' && s.text === 'Ran echo; ls failed.').length, 1);
  assert.equal(steps.filter((s) => s.scaffoldingKind === 'environment-context').length, 2);
}

describe('Codex WebSocket chain', () => {
  test('prewarm + incremental frames: one conversation, tool calls paired with outputs', () => {
    const { calls } = firstProcess();
    const assembler = assemble(calls);
    assert.deepEqual(assembler.sessions().map((s) => s.id), [SESSION]);
    const detail = assembler.session(SESSION);
    const main = conversation(detail);
    assert.equal(main.turns.length, 1);
    assert.equal(main.turns[0]!.prompt, 'please run echo');
    assert.equal(main.systemPrompt, `${SYSTEM}\n\n${SKILLS}`);
    assert.deepEqual(main.turns[0]!.llmCallIds, calls.slice(1).map((c) => c.id));
    const steps = main.turns[0]!.steps;
    assert.deepEqual(steps.filter((s) => s.type === 'tool_call').map((s) => [s.callId, s.output]), [['call_1', 'fake-tool-ok'], ['call_2', 'exit 2']]);
    const prewarm = detail?.threads.find((t) => t.kind === 'side');
    assert.equal(prewarm?.sideKind, 'prewarm');
    assert.equal(prewarm?.turns.length, 1);
    // Cached input is counted apart: 1000 input of which 800 cached → 200 uncached per call.
    assert.deepEqual(main.usage, { inputTokens: 600, outputTokens: 300, cacheReadTokens: 2400, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  test('resume: a new process prewarms, then sends the rest of the whole history', () => {
    const { calls, resumed, clock } = firstProcess();
    const socket = new ChainedSocket({ sessionId: SESSION, clock, tag: 'p2' });
    calls.push(socket.prewarm([resumed[0]!]));
    calls.push(socket.send(resumed.slice(1), [execCall('call_3', 'pwd')]));
    calls.push(socket.send([toolMessage(toolResult('call_3', '/home/dev/work'))], [text('You are in /home/dev/work.')]));
    const assembler = assemble(calls);
    assert.deepEqual(assembler.sessions().map((s) => s.id), [SESSION]);
    checkResumed(assembler.session(SESSION));
  });

  test('resume over HTTP: the whole history in one request, no chain', () => {
    const { calls, resumed, clock } = firstProcess();
    const common = { client: 'codex' as const, api: 'openai-responses' as const, provider: 'openai' as const, model: 'gpt-5.1-codex', identity: { sessionId: SESSION, sessionIdSource: 'body:prompt_cache_key' } };
    calls.push(llmCall({ ...common, startedAt: clock.next(), input: resumed, output: [execCall('call_3', 'pwd')], usage: usage(3000, 20, 2800) }));
    const next = [...resumed, assistant(execCall('call_3', 'pwd')), toolMessage(toolResult('call_3', '/home/dev/work'))];
    calls.push(llmCall({ ...common, startedAt: clock.next(), input: next, output: [text('You are in /home/dev/work.')], usage: usage(3100, 10, 3000) }));
    checkResumed(assemble(calls).session(SESSION));
  });

  test('a frame whose previous response was never captured still lands in its session', () => {
    const { calls } = firstProcess();
    const lost = calls.filter((_, i) => i !== 2);
    const detail = assemble(lost).session(SESSION);
    const steps = conversation(detail).turns.flatMap((t) => t.steps);
    assert.ok(steps.some((s) => s.type === 'text' && s.text === 'Ran echo; ls failed.'), 'nothing lost');
  });
});
