// Every request re-sends the whole history: it must be recognised, not repeated. When the
// history shrinks (compaction, /clear) or a request is sent again (retry), nothing is
// duplicated and nothing is lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { SessionState } from '../../src/conversation/session-state';
import type { SessionDetail, Step, Thread } from '../../src/conversation/types';
import type { LlmCall } from '../../src/llm/llm-call';
import { Clock, FullHistoryConversation, text, toolResult, toolUse } from '../support/llm-call-builder';

const SESSION = 'b7e1c7a2-0000-4000-8000-000000000001';
const SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude.";

function mainThread(detail: SessionDetail | undefined): Thread {
  const thread = detail?.threads.find((t) => t.kind === 'main');
  assert.ok(thread, 'a main thread');
  return thread;
}

const allSteps = (thread: Thread): Step[] => thread.turns.flatMap((t) => t.steps);
const count = <T>(items: T[], pred: (t: T) => boolean) => items.filter(pred).length;

/** Two tool-using turns, a retry after an overload, then compaction, then /clear. */
function session(): { calls: LlmCall[]; conversation: FullHistoryConversation; clock: Clock } {
  const clock = new Clock();
  const c = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
  const calls: LlmCall[] = [];
  c.say('List the files.');
  calls.push(c.request([toolUse('t1', 'Bash', { command: 'ls' })]));
  c.results(toolResult('t1', 'a.txt\nb.txt'));
  calls.push(c.request([text('Two files: a.txt and b.txt.')]));
  c.say('Show a.txt.');
  // Overloaded: the first attempt fails with nothing; the client sends the same request again.
  calls.push(c.request([], { status: 529, errors: ['overloaded_error'], usage: undefined, commit: false }));
  calls.push(c.request([toolUse('t2', 'Read', { file_path: 'a.txt' })]));
  c.results(toolResult('t2', 'hello'));
  // A duplicate: the same request sent twice, the same answer twice.
  const duplicate = c.request([text('a.txt says hello.')], { commit: false });
  calls.push(duplicate, c.request([text('a.txt says hello.')]));
  return { calls, conversation: c, clock };
}

describe('history deduplication', () => {
  test('a resent history is recognised: each prompt, tool call and answer appears once', () => {
    const { calls } = session();
    const thread = mainThread(assemble(calls).session(SESSION));
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.']);
    const steps = allSteps(thread);
    assert.equal(count(steps, (s) => s.type === 'tool_call'), 2);
    assert.equal(count(steps, (s) => s.type === 'tool_result'), 2);
    assert.equal(count(steps, (s) => s.text === 'a.txt says hello.'), 1);
    assert.equal(thread.segments, 1);
  });

  test('retries are kept once and noted; their tokens still count', () => {
    const { calls } = session();
    const thread = mainThread(assemble(calls).session(SESSION));
    const second = thread.turns[1]!;
    assert.equal(second.retries, 2, 'the request after the overload and the duplicate');
    assert.equal(second.llmCallIds.length, 4);
    assert.equal(second.usage.inputTokens, 300, 'three calls reported usage (100 each); the failed one none');
  });

  test('a failed answer is replaced by the retry that succeeded', () => {
    const clock = new Clock();
    const c = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
    c.say('Write a haiku.');
    const cut = c.request([text('Autumn moon')], { errors: ['stream ended before message_stop'], commit: false });
    const ok = c.request([text('Autumn moonlight / a worm digs silently / into the chestnut.')]);
    const thread = mainThread(assemble([cut, ok]).session(SESSION));
    const texts = allSteps(thread).filter((s) => s.type === 'text' && s.role === 'assistant').map((s) => s.text);
    assert.deepEqual(texts, ['Autumn moonlight / a worm digs silently / into the chestnut.']);
    assert.equal(thread.turns[0]!.retries, 1);
    assert.deepEqual(thread.turns[0]!.llmCallIds, [cut.id, ok.id]);
  });

  test('the same request answered differently keeps both answers, the second marked alternative', () => {
    const clock = new Clock();
    const c = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
    c.say('Pick a number.');
    const first = c.request([text('7')], { commit: false });
    const second = c.request([text('42')]);
    c.say('Why?');
    const third = c.request([text('Because.')]);
    const thread = mainThread(assemble([first, second, third]).session(SESSION));
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['Pick a number.', 'Why?']);
    const answers = thread.turns[0]!.steps.filter((s) => s.type === 'text');
    assert.deepEqual(answers.map((s) => [s.text, s.alternative ?? false]), [['7', false], ['42', true]]);
  });

  test('compaction: the history shrinks to a summary; a new segment continues the thread', () => {
    const { calls, clock } = session();
    const compacted = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
    compacted.say('This session is being continued from a previous conversation that ran out of context. Summary: the user listed files and read a.txt.');
    compacted.say('Now delete b.txt.');
    calls.push(compacted.request([toolUse('t3', 'Bash', { command: 'rm b.txt' })]));
    compacted.results(toolResult('t3', ''));
    calls.push(compacted.request([text('Deleted.')]));
    const thread = mainThread(assemble(calls).session(SESSION));
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'Now delete b.txt.']);
    assert.equal(thread.segments, 2);
    const steps = allSteps(thread);
    // The summary is shown folded at the restart, not as a turn; nothing before it is repeated.
    assert.equal(count(steps, (s) => s.marker === 'history-restart'), 1);
    assert.equal(count(steps, (s) => s.scaffoldingKind === 'compaction-summary'), 1);
    assert.equal(count(steps, (s) => s.type === 'tool_call'), 3);
    assert.equal(count(steps, (s) => s.text === 'a.txt says hello.'), 1);
    assert.equal(thread.turns[2]!.llmCallIds.length, 2);
  });

  test('/clear: a fresh history with the same system prompt starts a new turn in the same thread', () => {
    const { calls, clock } = session();
    const cleared = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
    cleared.say('<command-name>/clear</command-name>');
    cleared.say('Start over: what is in b.txt?');
    calls.push(cleared.request([text('I will read it.')]));
    const detail = assemble(calls).session(SESSION);
    assert.equal(detail?.threads.filter((t) => t.kind !== 'side').length, 1);
    const thread = mainThread(detail);
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'Start over: what is in b.txt?']);
  });

  test('a resumed conversation (new process, system prompt reworded) continues its thread', () => {
    // `claude -p --resume ID` re-sends the whole history, but its system prompt describes the
    // model anew ("Opus 4.8" instead of "Opus 4.8 (1M context)"), so its fingerprint differs.
    const { calls, conversation: c, clock } = session();
    const resumed = new FullHistoryConversation({ sessionId: SESSION, system: `${SYSTEM} (resumed)`, fingerprint: 'fp:resumed', clock });
    resumed.history.push(...structuredClone(c.history));
    resumed.say('Now delete b.txt.');
    calls.push(resumed.request([toolUse('t3', 'Bash', { command: 'rm b.txt' })]));
    resumed.results(toolResult('t3', ''));
    calls.push(resumed.request([text('Deleted.')]));
    const detail = assemble(calls).session(SESSION);
    assert.deepEqual(detail?.threads.filter((t) => t.kind !== 'side').map((t) => t.kind), ['main'], 'no second thread');
    const thread = mainThread(detail);
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'Now delete b.txt.']);
    assert.equal(thread.segments, 1);
    assert.equal(count(allSteps(thread), (s) => s.text === 'a.txt says hello.'), 1, 'the resent history is not repeated');
    assert.deepEqual(thread.turns[2]!.llmCallIds, calls.slice(-2).map((call) => call.id));
  });

  test('an old tool result cleared in later requests is an edit, not a new conversation', () => {
    const { calls, conversation: c } = session();
    c.history[2] = { role: 'user', content: [toolResult('t1', '[Old tool result content cleared]')] };
    c.say('And b.txt?');
    calls.push(c.request([text('It is empty.')]));
    c.say('Thanks.');
    calls.push(c.request([text('You are welcome.')]));
    const thread = mainThread(assemble(calls).session(SESSION));
    assert.equal(thread.segments, 1);
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'And b.txt?', 'Thanks.']);
    const results = allSteps(thread).filter((s) => s.type === 'tool_result');
    assert.deepEqual(results.map((s) => s.output), ['a.txt\nb.txt', 'hello'], 'the original output is kept');
  });

  test('a prompt-suggestion request (history + instruction, not marked side) is a side call, not a turn', () => {
    const { calls, conversation: c } = session();
    const suggestion = c.request([text('run the tests')], { commit: false });
    suggestion.input.push({ role: 'user', content: [text('[SUGGESTION MODE: Suggest what the user might naturally type next into Claude Code.]')] });
    c.say('What about b.txt?');
    calls.push(suggestion, c.request([text('b.txt is empty.')]));
    const detail = assemble(calls).session(SESSION);
    const thread = mainThread(detail);
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'What about b.txt?']);
    assert.equal(thread.segments, 1);
    assert.equal(count(allSteps(thread), (s) => s.alternative === true), 0, 'no fork');
    assert.deepEqual(detail?.threads.find((t) => t.kind === 'side')?.turns.map((t) => t.llmCallIds), [[suggestion.id]]);
  });

  test('a rewind to an earlier point forks: both branches kept, the shared part once', () => {
    const { calls, clock } = session();
    const rewound = new FullHistoryConversation({ sessionId: SESSION, system: SYSTEM, clock });
    rewound.say('List the files.');
    rewound.history.push({ role: 'assistant', content: [toolUse('t1', 'Bash', { command: 'ls' })] });
    rewound.results(toolResult('t1', 'a.txt\nb.txt'));
    rewound.history.push({ role: 'assistant', content: [text('Two files: a.txt and b.txt.')] });
    rewound.say('Show b.txt instead.');
    calls.push(rewound.request([text('b.txt is empty.')]));
    const thread = mainThread(assemble(calls).session(SESSION));
    assert.deepEqual(thread.turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.', 'Show b.txt instead.']);
    assert.equal(count(allSteps(thread), (s) => s.type === 'tool_call' && s.callId === 't1'), 1);
  });

  test('the session keeps no call\'s resent history (memory grows with new content, not with requests), and views do not change', () => {
    const { calls, conversation: c } = session();
    const title = c.request([text('{"title": "Files"}')], { side: 'title', commit: false });
    title.input = [...title.input, { role: 'user', content: [text('Write a title for: Show a.txt.')] }];
    calls.push(title);
    const before = structuredClone(calls);
    const detail = assemble(calls).session(SESSION);
    assert.deepEqual(calls, before, 'the caller\'s calls are not changed');
    assert.equal(detail?.summary.title, 'Files');
    assert.deepEqual(detail?.threads.find((t) => t.sideKind === 'title')?.turns.map((t) => t.prompt), ['Write a title for: Show a.txt.']);
    assert.deepEqual(mainThread(detail).turns.map((t) => t.prompt), ['List the files.', 'Show a.txt.']);

    const state = new SessionState(SESSION, calls[0]!, 'wire');
    for (const call of calls) state.add(call);
    const records = state.segments.flatMap((s) => s.calls);
    assert.ok(records.length >= calls.length - 1);
    assert.ok(records.every((r) => r.call.input.length === 0), 'a conversation call keeps no input');
    assert.deepEqual(state.sideCalls.map((call) => call.input.length), [1], 'a side call keeps the message with its prompt');
    const systems = new Set(records.map((r) => r.call.system));
    assert.equal(systems.size, 1);
  });
});
