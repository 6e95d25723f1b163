// The Sessions view model: sessions → threads → turns, subagents under the turn that started
// them, side requests folded into one node.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildSessionTree, compactNumber, oneLine, relativeTime, sessionNode, shortCost, type TreeNodeDescriptor,
} from '../../src/app/session-tree-model';
import { assemble } from '../../src/conversation/assembler';
import type { SessionDetail } from '../../src/conversation/types';
import { Clock, FullHistoryConversation, llmCall, text, toolResult, toolUse, usage } from '../support/llm-call-builder';

const SESSION = 'tree-session-1';

function sessionWithSubagent(): SessionDetail {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: 'Claude Code main', clock, model: 'claude-opus-4-6' });
  const sub = new FullHistoryConversation({ sessionId: SESSION, system: 'Claude Code subagent', clock, model: 'claude-haiku-4-5' });
  main.say('Explore the repo with a subagent.');
  const calls = [main.request([toolUse('toolu_1', 'Agent', { prompt: 'Explore src/ and report.' })])];
  sub.say('Explore src/ and report.');
  calls.push(sub.request([text('src has one file.')]));
  main.results(toolResult('toolu_1', 'src has one file.'));
  calls.push(main.request([text('The repo has one source file.')]));
  calls.push(llmCall({ side: 'title', model: 'claude-haiku-4-5', identity: { sessionId: SESSION }, startedAt: clock.next(), output: [text('{"title":"Explore repo"}')], usage: usage(90, 9) }));
  main.say('Now summarise.');
  calls.push(main.request([text('Done.')]));
  const detail = assemble(calls).session(SESSION);
  assert.ok(detail);
  return detail;
}

function child(tree: Map<string, TreeNodeDescriptor>, node: TreeNodeDescriptor, kind: TreeNodeDescriptor['kind']): TreeNodeDescriptor[] {
  return node.children.map((id) => tree.get(id)!).filter((n) => n.kind === kind);
}

describe('session tree model', () => {
  test('session → main thread → turns, subagent under the turn that started it, side requests folded', () => {
    const detail = sessionWithSubagent();
    const { nodes, root } = buildSessionTree(detail, { now: detail.summary.endedAt + 5 * 60_000 });
    assert.equal(root.kind, 'session');
    assert.equal(root.icon, 'sparkle');
    assert.match(root.description, /5m ago$/);
    for (const id of nodes.keys()) assert.ok(nodes.get(id), id);
    // Every child id resolves, and every node but the root is someone's child exactly once.
    const childIds = [...nodes.values()].flatMap((n) => n.children);
    for (const id of childIds) assert.ok(nodes.has(id), `dangling child ${id}`);
    assert.equal(new Set(childIds).size, childIds.length);
    assert.equal(childIds.length, nodes.size - 1);

    const [mainThread] = child(nodes, root, 'thread');
    assert.equal(mainThread.label, 'main');
    assert.equal(mainThread.collapsible, 'expanded');
    const turns = child(nodes, mainThread, 'turn');
    assert.deepEqual(turns.map((t) => t.label), ['Explore the repo with a subagent.', 'Now summarise.']);
    const [subagent] = child(nodes, turns[0], 'thread');
    assert.ok(subagent, 'the subagent hangs under the turn whose Agent call started it');
    assert.match(subagent.label, /^subagent: Explore src\/ and report\./);
    assert.equal(turns[0].collapsible, 'collapsed');
    assert.equal(turns[1].collapsible, 'none');

    const [side] = child(nodes, root, 'side-group');
    assert.ok(side);
    assert.equal(side.label, 'side requests');
    assert.deepEqual(child(nodes, side, 'thread').map((t) => t.label), ['title']);
  });

  test('a streaming session shows a spinner', () => {
    const detail = sessionWithSubagent();
    assert.equal(sessionNode(detail.summary, { now: 0, streaming: true }).icon, 'loading~spin');
    assert.equal(sessionNode(detail.summary, { now: 0 }).icon, 'sparkle');
  });

  test('formatting helpers', () => {
    assert.equal(compactNumber(999), '999');
    assert.equal(compactNumber(1234), '1.2k');
    assert.equal(compactNumber(45_600), '46k');
    assert.equal(compactNumber(2_500_000), '2.5M');
    assert.equal(shortCost(null), '$?');
    assert.equal(shortCost(0.004), '<$0.01');
    assert.equal(shortCost(1.234), '$1.23');
    assert.equal(relativeTime(0, 10_000), 'just now');
    assert.equal(relativeTime(0, 3 * 3600_000), '3h ago');
    assert.equal(relativeTime(0, 3 * 86400_000), '3d ago');
    assert.equal(oneLine('a\n  b', 80), 'a b');
    assert.equal(oneLine('x'.repeat(10), 5), 'xxxx…');
  });

  test('a long title gives the line its whole text would, whitespace and all', () => {
    const whole = (text: string, max: number) => {
      const line = text.replace(/\s+/g, ' ').trim();
      return line.length > max ? `${line.slice(0, max - 1)}…` : line;
    };
    const texts = [
      `  ${'word '.repeat(5000)}`,
      `${' '.repeat(400)}short after a long run of spaces`,
      `${'a\n\t '.repeat(100)}${'b'.repeat(50)}`,
      `${'x'.repeat(319)} ${'y'.repeat(10)}`,
      `${'x'.repeat(79)}${' '.repeat(300)}`,
    ];
    for (const text of texts) for (const max of [5, 80]) assert.equal(oneLine(text, max), whole(text, max), JSON.stringify(text.slice(0, 40)));
  });
});
