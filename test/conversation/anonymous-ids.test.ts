// Sessions without a wire id are named `anon:<client>:<n>`, numbered 1, 2, 3… per client in the
// order they are created: no gaps for the calls that joined an existing session, and the same
// numbers whether the calls come one by one or all at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Assembler, assemble } from '../../src/conversation/assembler';
import type { LlmCall } from '../../src/llm/llm-call';
import { Clock, FullHistoryConversation, geminiCliConversation, llmCall, text, usage } from '../support/llm-call-builder';

function calls(): LlmCall[] {
  const clock = new Clock();
  const first = geminiCliConversation(clock, ['hello', 'what is in this folder?', 'thanks']);
  // A call with a wire id in between takes no number.
  const wired = llmCall({ startedAt: clock.next(), identity: { sessionId: 'sess-wired' }, usage: usage(1, 1) });
  const aider = new FullHistoryConversation({ system: 'Act as an expert software developer.', clock, client: 'aider', api: 'openai-chat-completions', provider: 'openai' });
  aider.say('fix the bug');
  const aiderCall = aider.request([text('Fixed.')]);
  clock.next(3 * 3600_000);
  const second = geminiCliConversation(clock, ['a different task']);
  clock.next(3 * 3600_000);
  const third = geminiCliConversation(clock, ['and another']);
  return [...first, wired, aiderCall, ...second, ...third];
}

describe('anonymous session ids', () => {
  test('are numbered consecutively per client, in the order the sessions start', () => {
    const ids = assemble(calls()).sessions().map((s) => s.id);
    assert.deepEqual(ids, ['anon:gemini-cli:1', 'sess-wired', 'anon:aider:1', 'anon:gemini-cli:2', 'anon:gemini-cli:3']);
  });

  test('are the same when the calls arrive one by one, and stay put as sessions are added', () => {
    const all = calls();
    const incremental = new Assembler();
    const seen = new Set<string>();
    for (const call of all) seen.add(incremental.add(call));
    // Every id handed out along the way still names its session.
    for (const id of seen) assert.equal(incremental.session(id)?.id, id);
    assert.deepEqual(incremental.sessions().map((s) => s.id), assemble(all).sessions().map((s) => s.id));
    assert.deepEqual([...seen.keys()], ['anon:gemini-cli:1', 'sess-wired', 'anon:aider:1', 'anon:gemini-cli:2', 'anon:gemini-cli:3']);
  });
});
