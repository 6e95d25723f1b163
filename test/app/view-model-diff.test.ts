// A live page's updates as patches (docs/decisions.md, decision 76): the page's model with a patch
// applied equals the engine's new model, whatever changed, and a patch that does not fit is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildViewModel } from '../../src/app/conversation-view-builder';
import { buildLiveTurn } from '../../src/app/conversation-view-builder';
import { diffLiveTurns, diffViewModel, LiveRevisions, ViewRevisions } from '../../src/app/view-model-diff';
import { sameValue } from '../../src/conversation/same-value';
import type { ContentBlock } from '../../src/llm/llm-call';
import { HEAD_TURNS } from '../../src/app/view-model-head';
import { assemble } from '../../src/conversation/assembler';
import type { LlmCall } from '../../src/llm/llm-call';
import type { ConversationViewModel, ViewThread } from '../../src/shared/conversation-view-model';
import { applyLiveChanges, applyViewPatch, type ConversationViewPatch } from '../../src/shared/view-model-patch';
import { parseWebviewMessage } from '../../src/shared/conversation-protocol';
import { Clock, FullHistoryConversation, llmCall, text, thinking, toolResult, toolUse, usage } from '../support/llm-call-builder';

const SESSION = 'patched-session';

/** What crosses a message boundary: a copy, as structured clone makes it. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A Claude Code session call by call: tool turns, a subagent, a title, tools that change, a long answer. */
function calls(): LlmCall[] {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: 'Main system prompt', clock, model: 'claude-opus-4-6', tools: ['Agent', 'Bash'] });
  const sub = new FullHistoryConversation({ sessionId: SESSION, system: 'Subagent system prompt', clock, model: 'claude-opus-4-6' });
  const out: LlmCall[] = [];
  main.say('Find the snippet and run it.');
  out.push(main.request([thinking('Delegate.'), toolUse('toolu_1', 'Agent', { description: 'find it', prompt: 'Find the snippet.' })], { usage: usage(100, 20, 900, 0) }));
  sub.say('Find the snippet.');
  out.push(sub.request([text('Found it in x.ts')]));
  out.push(llmCall({ side: 'title', identity: { sessionId: SESSION }, startedAt: clock.next(), output: [text('{"title":"Run the snippet"}')], usage: usage(10, 2), model: 'claude-haiku-4-5' }));
  main.results(toolResult('toolu_1', 'Found it in x.ts'));
  out.push(main.request([toolUse('toolu_2', 'Bash', { command: 'node x.ts' })], { usage: usage(50, 20, 200, 900) }));
  main.results(toolResult('toolu_2', 'ok'));
  out.push(main.request([text('It printed ok.')], { usage: usage(20, 10, 0, 1100) }));
  for (let i = 0; i < 12; i++) {
    main.say(`Prompt ${i}: ${'lorem ipsum '.repeat(40)}`);
    out.push(main.request([text(`Answer ${i}: ${'dolor sit amet '.repeat(200)}`)], { usage: usage(30, 200, 0, 1200 + i * 300) }));
  }
  // The client offers another tool from here on: the thread's definitions change.
  main.say('Read it.');
  out.push(main.request([text('Read.')], { usage: usage(30, 5, 0, 5000), tools: ['Agent', 'Bash', 'Read'] }));
  return out;
}

function models(all: LlmCall[]): ConversationViewModel[] {
  return all.map((_, k) => buildViewModel(assemble(all.slice(0, k + 1)).session(SESSION)!));
}

describe('conversation view model patches', () => {
  test('each call\'s patch, applied to the page\'s copy of the model before it, gives the model after it', () => {
    const all = models(calls());
    let sawKept = false;
    let sawDefinitions = 0;
    for (let k = 1; k < all.length; k++) {
      const page = copy(all[k - 1]!);
      const patch = copy(diffViewModel(all[k - 1]!, all[k]!));
      const next = applyViewPatch(page, patch);
      assert.ok(next, `call ${k}: the patch fits`);
      assert.deepEqual(next, copy(all[k]!), `call ${k}`);
      for (const t of patch.threads) {
        const before = page.threads.find((p) => p.id === t.id);
        const after: ViewThread = next.threads.find((p) => p.id === t.id)!;
        // Kept turns are the page's own objects: it tells them unchanged by identity.
        for (let i = 0; i < t.keepTurns; i++) assert.equal(after.turns[i], before!.turns[i]);
        if (t.keepTurns > 0) sawKept = true;
        if (before && t.definitions) sawDefinitions++;
      }
    }
    assert.ok(sawKept, 'some turns were kept');
    assert.equal(sawDefinitions, 1, 'the definitions were sent again once, when the tools changed');
  });

  test('a long session\'s patch carries the new turn, not the session', () => {
    const all = models(calls());
    const k = all.length - 2;
    const patch = diffViewModel(all[k - 1]!, all[k]!);
    const main = patch.threads.find((t) => t.kind === 'main')!;
    const before = all[k - 1]!.threads.find((t) => t.kind === 'main')!;
    assert.equal(main.keepTurns, before.turns.length, 'every earlier turn kept');
    assert.equal(main.turns.length, 1);
    assert.equal(main.keepPoints, before.points.length);
    assert.equal(main.definitions, undefined);
    const whole = JSON.stringify(all[k]).length;
    const sent = JSON.stringify(patch).length;
    assert.ok(sent * 5 < whole, `patch ${sent} bytes, model ${whole}`);
  });

  test('a change anywhere is sent from the first turn it touches; a new thread whole', () => {
    const before = copy(buildViewModel(assemble(calls()).session(SESSION)!));
    const after = copy(before);
    const main = after.threads.find((t) => t.kind === 'main')!;
    main.turns[2]!.stats = 'changed';
    after.threads.push({ ...copy(main), id: 'new-thread', kind: 'subagent', label: 'Subagent new-thread' });
    const patch = diffViewModel(before, after);
    const p = patch.threads.find((t) => t.id === main.id)!;
    assert.equal(p.keepTurns, 2);
    const added = patch.threads.find((t) => t.id === 'new-thread')!;
    assert.equal(added.keepTurns, 0);
    assert.ok(added.definitions);
    assert.deepEqual(applyViewPatch(copy(before), copy(patch)), after);
    // A thread that is gone is left out.
    const fewer = copy(before);
    fewer.threads = fewer.threads.filter((t) => t.kind === 'main');
    assert.deepEqual(applyViewPatch(copy(before), diffViewModel(before, fewer)), fewer);
  });

  test('a patch that does not fit the page\'s model is refused', () => {
    const all = models(calls());
    const k = all.length - 1;
    const patch = diffViewModel(all[k - 1]!, all[k]!);
    assert.equal(applyViewPatch({ ...copy(all[k - 1]!), sessionId: 'other' }, patch), undefined, 'another session');
    assert.equal(applyViewPatch(copy(all[1]!), patch), undefined, 'an older model: more turns kept than it has');
    const noThreads = { ...copy(all[k - 1]!), threads: [] };
    assert.equal(applyViewPatch(noThreads, patch), undefined, 'a kept thread the page lacks');
    const bad: ConversationViewPatch = { ...patch, threads: patch.threads.map((t) => ({ ...t, keepPoints: t.keepPoints + 1000 })) };
    assert.equal(applyViewPatch(copy(all[k - 1]!), bad), undefined, 'more points kept than it has');
  });

  test('the engine\'s revisions: whole, then patches against the revision the page has', () => {
    const all = models(calls());
    const revisions = new ViewRevisions(2);
    const first = revisions.answer(all[0]!, undefined);
    assert.ok('model' in first);
    const second = revisions.answer(all[1]!, first.revision);
    assert.ok('patch' in second && second.base === first.revision && second.revision !== first.revision);
    // The page is behind (an answer it never got): whole again.
    const third = revisions.answer(all[2]!, first.revision);
    assert.ok('model' in third);
    // Other sessions past the capacity push the oldest out.
    revisions.answer({ ...all[0]!, sessionId: 'b' }, undefined);
    revisions.answer({ ...all[0]!, sessionId: 'c' }, undefined);
    assert.ok('model' in revisions.answer(all[3]!, third.revision), 'forgotten: whole');
    const fourth = revisions.answer(all[4]!, undefined);
    revisions.forget(SESSION);
    assert.ok('model' in revisions.answer(all[5]!, fourth.revision), 'forgotten on request: whole');
  });

  test('a new page gets a long session\'s head; the rest follows as a patch against it, the head not sent again', () => {
    const model = models(calls()).at(-1)!;
    const long: ConversationViewModel = { ...model, threads: model.threads.map((t) => ({ ...t, turns: Array.from({ length: HEAD_TURNS + 10 }, (_, i) => ({ ...t.turns[i % t.turns.length]!, index: i })) })) };
    const revisions = new ViewRevisions();
    const first = revisions.answer(long, undefined, true);
    assert.ok('model' in first && first.head === true, 'the head');
    assert.ok(first.model.threads.every((t) => t.turns.length === HEAD_TURNS));
    const rest = revisions.answer(long, first.revision);
    assert.ok('patch' in rest);
    for (const t of rest.patch.threads) {
      assert.equal(t.keepTurns, HEAD_TURNS);
      assert.equal(t.turns.length, 10);
      assert.equal(t.definitions, undefined, 'the system prompt and tools went with the head');
    }
    assert.deepEqual(applyViewPatch(copy(first.model), copy(rest.patch)), copy(long));
    // A short session, or a page asking for a turn (no head), gets the whole model.
    assert.equal((revisions.answer(model, undefined, true) as { head?: true }).head, undefined);
  });

  test('values nested past the walk\'s depth count as changed, and are sent', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deep = { a: deep };
    assert.equal(sameValue(deep, copy(deep)), false);
    assert.equal(sameValue(deep, deep), true, 'the same object');
    assert.equal(sameValue({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }), true);
    assert.equal(sameValue({ a: 1 }, { a: 1, b: undefined }), false);
    assert.equal(sameValue([1], { 0: 1 }), false);
    assert.equal(sameValue({ at: new Date(1) }, { at: new Date(2) }), false, 'an object that is not plain is equal only to itself');
  });

  test('previews of a call in progress go as what grew: thinking, text and a tool call\'s arguments, each appended', () => {
    const thinking = 'Let me look at the file first. '.repeat(40);
    const answer = 'Here is what I found in the file. '.repeat(60);
    const args = JSON.stringify({ file_path: '/src/a.ts', content: 'export const a = 1;\n'.repeat(80) });
    // The call's output as it arrives, cut every 97 characters, as a stream's events arrive.
    const states: ContentBlock[][] = [[]];
    for (let i = 97; i < thinking.length + 97; i += 97) states.push([{ type: 'thinking', text: thinking.slice(0, i) }]);
    for (let i = 97; i < answer.length + 97; i += 97) states.push([{ type: 'thinking', text: thinking }, { type: 'text', text: answer.slice(0, i) }]);
    for (let i = 97; i < args.length + 97; i += 97) {
      states.push([{ type: 'thinking', text: thinking }, { type: 'text', text: answer }, { type: 'tool-call', callId: 't1', name: 'Write', arguments: args.slice(0, i), kind: 'function' }]);
    }
    const previews = states.map((output) => [buildLiveTurn({ callId: 'c1', model: 'claude-opus-4-6', startedAt: 1, firstTokenAt: output.length > 0 ? 2 : undefined, output })]);
    let page = copy(previews[0]!);
    let sent = 0;
    let whole = 0;
    for (let k = 1; k < previews.length; k++) {
      const changes = diffLiveTurns(previews[k - 1]!, previews[k]!);
      assert.ok(changes, `state ${k} changed`);
      const next = applyLiveChanges(page, copy(changes));
      assert.deepEqual(next, copy(previews[k]!), `state ${k}`);
      page = next!;
      sent += JSON.stringify(changes).length;
      whole += JSON.stringify(previews[k]).length;
    }
    assert.ok(sent * 5 < whole, `changes ${sent} bytes in all, whole previews ${whole}`);
    assert.equal(diffLiveTurns(previews[3]!, copy(previews[3]!)), undefined, 'nothing changed: nothing to send');
    // The call ends (gone from the previews) and another starts: the new one goes whole.
    const other = buildLiveTurn({ callId: 'c2', startedAt: 5, output: [{ type: 'text', text: 'Hi' }] });
    const changes = diffLiveTurns(previews.at(-1)!, [other])!;
    assert.deepEqual(changes, [{ callId: 'c2', turn: other }]);
    assert.deepEqual(applyLiveChanges(page, changes), [other]);
    // A change for a call the page does not have, or keeping more blocks than it has, is refused.
    assert.equal(applyLiveChanges([], diffLiveTurns(previews[1]!, previews[2]!)!), undefined);
    assert.equal(applyLiveChanges(copy(previews[1]!), diffLiveTurns(previews[20]!, previews[21]!)!), undefined);
  });

  test('the engine\'s preview revisions: whole, changes against the page\'s, nothing when unchanged', () => {
    const turn = (text: string) => [buildLiveTurn({ callId: 'c1', startedAt: 1, output: [{ type: 'text', text }] })];
    const revisions = new LiveRevisions();
    const first = revisions.answer('s', turn('Hel'), undefined);
    assert.ok('turns' in first);
    const second = revisions.answer('s', turn('Hello'), first.revision);
    assert.ok('changes' in second && second.base === first.revision);
    // "Hel" became "Hello": the one block is kept, and only "lo" goes.
    assert.deepEqual(second.changes[0], { callId: 'c1', status: turn('Hello')[0]!.status, startedAt: 1, keepBlocks: 1, grow: { field: 'text', tail: 'lo' }, blocks: [] });
    assert.deepEqual(revisions.answer('s', turn('Hello'), second.revision), { revision: second.revision, unchanged: true });
    assert.ok('turns' in revisions.answer('s', turn('Hello!'), first.revision), 'a page behind gets them whole');
    revisions.forget('s');
    assert.ok('turns' in revisions.answer('s', turn('Hello!'), second.revision));
  });

  test('the page may say its model is stale', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'stale', extra: 1 }), { type: 'stale' });
  });
});
