// Incremental assembly: a new call updates only its session, and after every call the result
// equals a from-scratch build of the same calls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Assembler, assemble } from '../../src/conversation/assembler';
import { ASSEMBLER_VERSION, needsRebuild } from '../../src/conversation/version';
import type { LlmCall } from '../../src/llm/llm-call';
import {
  ChainedSocket, Clock, developer, FullHistoryConversation, llmCall, text, toolMessage, toolResult, toolUse, user, usage,
} from '../support/llm-call-builder';

/** Three clients working at the same time, their calls interleaved as a store would hold them. */
function mixedWorkload(): LlmCall[] {
  const clock = new Clock();
  const calls: LlmCall[] = [];
  const claude = new FullHistoryConversation({ sessionId: 'claude-1', system: 'Claude Code main', clock });
  const sub = new FullHistoryConversation({ sessionId: 'claude-1', system: 'Claude Code subagent', clock, model: 'claude-haiku-4-5' });
  const codex = new ChainedSocket({ sessionId: 'codex-1', clock, tag: 'x' });
  const opencode = new FullHistoryConversation({ sessionId: 'ses_p', system: 'OpenCode', clock, client: 'opencode' });
  const child = new FullHistoryConversation({ sessionId: 'ses_c', system: 'OpenCode', clock, client: 'opencode' });

  calls.push(codex.prewarm([developer('You are Codex.')]));
  claude.say('Explore the repo with a subagent.');
  calls.push(claude.request([toolUse('toolu_1', 'Agent', { prompt: 'Explore src/ and report.' })]));
  opencode.say('Research with a subagent.');
  calls.push(opencode.request([toolUse('call_t', 'task', { prompt: 'Research X.' })]));
  calls.push(codex.send([user('run the tests')], [toolUse('call_c1', 'exec_command', { cmd: 'npm test' })]));
  sub.say('Explore src/ and report.');
  calls.push(sub.request([toolUse('toolu_s1', 'Glob', { pattern: 'src/**' })]));
  child.say('Research X.');
  calls.push(child.request([text('X is a library.')]));
  sub.results(toolResult('toolu_s1', 'src/a.ts'));
  calls.push(sub.request([text('src has one file.')]));
  calls.push(codex.send([toolMessage(toolResult('call_c1', '1 failing'))], [text('One test fails.')]));
  claude.results(toolResult('toolu_1', 'src has one file.'));
  calls.push(claude.request([text('The repo has one source file.')]));
  calls.push(llmCall({ side: 'title', model: 'claude-haiku-4-5', identity: { sessionId: 'claude-1' }, startedAt: clock.next(), output: [text('{"title":"Explore repo"}')], usage: usage(90, 9) }));
  opencode.results(toolResult('call_t', 'task_id: ses_c\n<task_result>X is a library.</task_result>'));
  calls.push(opencode.request([text('X is a library.')]));
  claude.say('<system-reminder>todo list</system-reminder>', 'Now fix it.');
  calls.push(claude.request([], { status: 529, errors: ['overloaded'], usage: undefined, commit: false }));
  calls.push(claude.request([text('Fixed.')]));
  return calls;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

function snapshot(assembler: Assembler): unknown {
  return json({ sessions: assembler.sessions(), details: assembler.sessionIds().sort().map((id) => assembler.session(id)) });
}

describe('incremental assembly', () => {
  test('each call changes only its own session', () => {
    const calls = mixedWorkload();
    const assembler = new Assembler();
    for (const call of calls) {
      const before = new Map(assembler.sessionIds().map((id) => [id, assembler.session(id)]));
      const { sessionId, retiredSessionIds } = assembler.addCall(call);
      for (const [id, detail] of before) {
        if (id === sessionId || retiredSessionIds.includes(id)) continue;
        // The cached view is returned untouched: the session's state did not change.
        assert.equal(assembler.session(id), detail, `call ${call.id} left session ${id} alone`);
      }
      // The returned id is the session that now holds the call's own session id.
      if (call.identity.sessionId !== undefined) assert.equal(assembler.session(call.identity.sessionId)?.id, sessionId);
    }
    assert.deepEqual(assembler.sessionIds().sort(), ['claude-1', 'codex-1', 'ses_p']);
  });

  test('after every call, the incremental result equals a from-scratch build', () => {
    const calls = mixedWorkload();
    const assembler = new Assembler();
    calls.forEach((call, i) => {
      assembler.add(call);
      assert.deepEqual(snapshot(assembler), snapshot(assemble(calls.slice(0, i + 1))), `after call ${i + 1}`);
    });
  });

  test('the workload assembles as expected', () => {
    const assembler = assemble(mixedWorkload());
    const claude = assembler.session('claude-1')!;
    assert.equal(claude.summary.title, 'Explore repo');
    assert.deepEqual(claude.threads.map((t) => [t.kind, t.parentToolCallId]), [['main', undefined], ['subagent', 'toolu_1'], ['side', undefined]]);
    assert.equal(claude.threads[0]!.turns[1]!.retries, 1);
    const opencode = assembler.session('ses_c')!;
    assert.equal(opencode.id, 'ses_p');
    assert.equal(opencode.threads.find((t) => t.kind === 'subagent')?.parentToolCallId, 'call_t');
    assert.equal(assembler.session('codex-1')!.threads.find((t) => t.kind === 'main')?.turns[0]?.steps.find((s) => s.type === 'tool_call')?.output, '1 failing');
  });

  test('the assembler version marks derived data for rebuild', () => {
    assert.equal(needsRebuild(ASSEMBLER_VERSION), false);
    assert.equal(needsRebuild(ASSEMBLER_VERSION - 1), true);
    assert.equal(needsRebuild(undefined), true);
    assert.equal(assemble(mixedWorkload()).sessions()[0]!.assemblerVersion, ASSEMBLER_VERSION);
  });
});
