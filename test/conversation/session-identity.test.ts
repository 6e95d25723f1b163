// Which calls make one session: wire ids where they exist; a Codex title thread (its own session
// id) joins the session it titles; calls without any id are grouped by the documented heuristics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import type { LlmCall } from '../../src/llm/llm-call';
import {
  ChainedSocket, Clock, geminiCliConversation, developer, FullHistoryConversation, llmCall, text, user, usage,
} from '../support/llm-call-builder';

const CODEX = '01a20f69-0000-7000-8000-00000000c0de';

function codexTurn(clock: Clock): LlmCall[] {
  const socket = new ChainedSocket({ sessionId: CODEX, clock, tag: 'c' });
  return [socket.prewarm([developer('You are Codex.')]), socket.send([user('please add a README')], [text('Added README.md.')])];
}

function titleThread(clock: Clock): LlmCall {
  return llmCall({
    client: 'codex', api: 'openai-responses', provider: 'openai', model: 'gpt-5.1-codex-mini', side: 'title', startedAt: clock.next(),
    identity: { sessionId: 'title-thread-1', threadSource: 'thread_title' },
    input: [user('Generate a concise, single-line task title for this request:\n\nplease add a README')],
    output: [text('Add a README')], usage: usage(120, 8),
  });
}

describe('session identity', () => {
  test('a Codex title thread on its own session id joins the session it titles (before or after it)', () => {
    for (const titleFirst of [true, false]) {
      const clock = new Clock();
      const title = titleFirst ? titleThread(clock) : undefined;
      const calls = codexTurn(clock);
      const all = title ? [title, ...calls] : [...calls, titleThread(clock)];
      const assembler = assemble(all);
      assert.deepEqual(assembler.sessions().map((s) => s.id), [CODEX], `title first: ${titleFirst}`);
      const detail = assembler.session('title-thread-1');
      assert.equal(detail?.summary.title, 'Add a README');
      assert.deepEqual(detail?.mergedSessionIds, ['title-thread-1']);
      assert.ok(detail?.threads.some((t) => t.kind === 'side' && t.sideKind === 'title'));
    }
  });

  test('without a title call, the title is the first prompt', () => {
    const summary = assemble(codexTurn(new Clock())).sessions()[0];
    assert.equal(summary?.title, 'please add a README');
  });

  test('calls without a session id: history continuity and timing make one session; the scorer is a side call', () => {
    const clock = new Clock();
    const first = geminiCliConversation(clock, ['hello', 'what is in this folder?']);
    clock.next(3 * 3600_000);
    const later = geminiCliConversation(clock, ['a different task']);
    const assembler = assemble([...first, ...later]);
    const sessions = assembler.sessions();
    assert.equal(sessions.length, 2, 'three hours apart: two sessions');
    assert.match(sessions[0]!.id, /^anon:gemini-cli:/);
    assert.equal(sessions[0]!.idSource, 'heuristic');
    const detail = assembler.session(sessions[0]!.id)!;
    assert.deepEqual(detail.threads.find((t) => t.kind === 'main')?.turns.map((t) => t.prompt), ['hello', 'what is in this folder?']);
    assert.equal(detail.threads.find((t) => t.kind === 'side')?.turns.length, 2);
    assert.equal(detail.summary.callCount, 4);
  });

  test('two sessions with wire ids never mix, even with identical content', () => {
    const clock = new Clock();
    const a = new FullHistoryConversation({ sessionId: 'sess-a', system: 'S', clock });
    const b = new FullHistoryConversation({ sessionId: 'sess-b', system: 'S', clock });
    a.say('hi');
    b.say('hi');
    const assembler = assemble([a.request([text('hello')]), b.request([text('hello')])]);
    assert.deepEqual(assembler.sessions().map((s) => s.id), ['sess-a', 'sess-b']);
  });
});
