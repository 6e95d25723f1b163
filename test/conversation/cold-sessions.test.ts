// Sessions set aside from memory (docs/decisions.md, decision 66): a set-aside session keeps its
// summary listed, and a call that joins it (by its id, or by a merge) reads its calls back first,
// so the result equals an assembly that never set anything aside.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Assembler, assemble } from '../../src/conversation/assembler';
import type { LlmCall } from '../../src/llm/llm-call';
import { Clock, FullHistoryConversation, llmCall, text, user } from '../support/llm-call-builder';
import { mixedWorkload } from '../support/mixed-workload';

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** An assembler whose set-aside calls are read back from `calls`, counting the calls read. */
function coldable(calls: readonly LlmCall[]): { assembler: Assembler; reloaded: () => number } {
  const byId = new Map(calls.map((c) => [c.id, c]));
  let reloaded = 0;
  const assembler = new Assembler((ids) => {
    reloaded += ids.length;
    return ids.flatMap((id) => byId.get(id) ?? []);
  });
  return { assembler, reloaded: () => reloaded };
}

function everything(assembler: Assembler): unknown {
  return json({ sessions: assembler.sessions(), details: assembler.sessionIds().sort().map((id) => assembler.session(id)) });
}

describe('sessions set aside from memory', () => {
  test('setting every other session aside after each call changes nothing once they are brought back', () => {
    const calls = mixedWorkload();
    const { assembler, reloaded } = coldable(calls);
    for (const call of calls) {
      const { sessionId } = assembler.addCall(call);
      for (const id of assembler.sessionIds()) if (id !== sessionId) assembler.evict(id);
    }
    assert.ok(reloaded() > 0, 'later calls joined set-aside sessions');
    const expected = assemble(calls);
    // Listed while set aside, with the same summaries.
    assert.deepEqual(json(assembler.sessions()), json(expected.sessions()));
    for (const summary of expected.sessions()) assembler.warm(summary.id);
    assert.equal(assembler.coldCount, 0);
    assert.deepEqual(everything(assembler), everything(expected));
  });

  test('a set-aside session is listed, not held, and answers by its summary', () => {
    const calls = mixedWorkload();
    const { assembler } = coldable(calls);
    for (const call of calls) assembler.addCall(call);
    const ids = assembler.sessionIds();
    for (const id of ids) assert.ok(assembler.evict(id));
    assert.deepEqual(assembler.sessionIds(), []);
    assert.equal(assembler.coldCount, ids.length);
    for (const id of ids) {
      assert.ok(assembler.isCold(id));
      assert.equal(assembler.session(id), undefined);
      assert.equal(assembler.summary(id)?.id, id);
    }
    // A merged id still answers with the session that absorbed it.
    assert.equal(assembler.currentId('ses_c'), 'ses_p');
    assert.equal(assembler.summary('ses_c')?.id, 'ses_p');
  });

  test('only sessions idle since the cut-off, and not kept, are set aside', () => {
    const clock = new Clock();
    const a = new FullHistoryConversation({ sessionId: 'a', system: 'Claude Code main', clock });
    const b = new FullHistoryConversation({ sessionId: 'b', system: 'Claude Code main', clock });
    const c = new FullHistoryConversation({ sessionId: 'c', system: 'Claude Code main', clock });
    const calls = [a.say('one').request([text('1')]), b.say('two').request([text('2')])];
    const cutOff = clock.next(60_000);
    calls.push(c.say('three').request([text('3')]));
    const { assembler } = coldable(calls);
    for (const call of calls) assembler.addCall(call);
    assert.deepEqual(assembler.evictIdle(cutOff, new Set(['b'])), ['a']);
    assert.deepEqual(assembler.sessionIds().sort(), ['b', 'c']);
  });

  test('a session whose calls are all gone starts again under its id', () => {
    const clock = new Clock();
    const a = new FullHistoryConversation({ sessionId: 'a', system: 'Claude Code main', clock });
    const first = a.say('one').request([text('1')]);
    const assembler = new Assembler(() => []);
    assembler.addCall(first);
    assert.ok(assembler.evict('a'));
    const next = a.say('two').request([text('2')]);
    assert.equal(assembler.addCall(next).sessionId, 'a');
    assert.equal(assembler.coldCount, 0);
    assert.equal(assembler.session('a')?.summary.callCount, 1);
  });

  test('an assembly resumed from its saved state, every session set aside, goes on as the original does (decision 94)', () => {
    const calls = mixedWorkload();
    // Each session's last call comes after the save: it joins a session that is set aside.
    const lastOf = new Map(calls.map((c, i) => [c.identity.sessionId ?? c.id, i]));
    const later = new Set(lastOf.values());
    const saved = assemble(calls.filter((_, i) => !later.has(i)));
    const { assembler } = coldable(calls);
    const state = json(saved.resumeState()) as ReturnType<Assembler['resumeState']>;
    assert.ok(assembler.resumeFrom(json(saved.sessions()) as ReturnType<Assembler['sessions']>, state));
    assert.equal(assembler.coldCount, saved.sessionIds().length);
    assert.deepEqual(json(assembler.sessions()), json(saved.sessions()), 'listed as saved');
    assert.equal(assembler.currentId('ses_c'), saved.currentId('ses_c'), 'a merged id still leads to its host');
    for (const [i, call] of calls.entries()) if (later.has(i)) assembler.addCall(call);
    const expected = assemble(calls);
    for (const summary of expected.sessions()) assembler.warm(summary.id);
    assert.deepEqual(everything(assembler), everything(expected));
    // Only into an empty assembler.
    assert.equal(assembler.resumeFrom(saved.sessions(), saved.resumeState()), false);
  });

  test('a resumed assembly keeps where merged ids lead and how anonymous sessions are numbered', () => {
    const anonymous = (words: string) => llmCall({ system: `Some tool ${words}`, input: [user(`${words}, please`)], output: [text(`${words} done`)] });
    const before = [...mixedWorkload(), anonymous('first job')];
    // An OpenCode call on the child session's id: the parent session took that id in.
    const child = new FullHistoryConversation({ sessionId: 'ses_c', system: 'OpenCode', clock: new Clock(), client: 'opencode' });
    child.say('More on X.');
    const after = [anonymous('second, unrelated job'), child.request([text('Still a library.')])];
    const all = [...before, ...after];
    // The original, as a long-running engine leaves it: every session set aside once idle.
    const { assembler: original } = coldable(all);
    for (const call of before) original.addCall(call);
    for (const id of original.sessionIds()) original.evict(id);
    const { assembler: resumed } = coldable(all);
    assert.ok(resumed.resumeFrom(json(original.sessions()) as ReturnType<Assembler['sessions']>, json(original.resumeState()) as ReturnType<Assembler['resumeState']>));
    for (const id of ['ses_c', 'ses_p', 'claude-1', 'codex-1']) assert.equal(resumed.currentId(id), original.currentId(id), id);
    for (const call of after) assert.equal(resumed.addCall(call).sessionId, original.addCall(call).sessionId);
    assert.deepEqual(json(resumed.sessions()), json(original.sessions()));
  });

  test('a saved state whose sessions do not match the summaries given is refused', () => {
    const saved = assemble(mixedWorkload());
    const { assembler } = coldable([]);
    assert.equal(assembler.resumeFrom(saved.sessions().slice(1), saved.resumeState()), false);
    assert.equal(assembler.coldCount, 0);
    assert.equal(new Assembler().resumeFrom(saved.sessions(), saved.resumeState()), false, 'nothing could be read back');
  });

  test('without a way to read calls back, nothing is set aside', () => {
    const assembler = assemble(mixedWorkload());
    for (const id of assembler.sessionIds()) assert.equal(assembler.evict(id), false);
    assert.equal(assembler.coldCount, 0);
  });
});
