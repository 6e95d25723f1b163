// The live turn: a call still streaming, mapped like a finished turn's blocks (tool arguments shown
// as they stream, JSON yet or not), placed in the thread that sent the same system prompt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { buildLiveTurn, buildViewModel } from '../../src/app/conversation-view-builder';
import { Clock, FullHistoryConversation, text, toolResult, toolUse } from '../support/llm-call-builder';

const SESSION = 'live-session';

function detail() {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: 'Main system prompt', clock, model: 'claude-opus-4-6', tools: ['Agent'] });
  const sub = new FullHistoryConversation({ sessionId: SESSION, system: 'Subagent system prompt', clock, model: 'claude-opus-4-6' });
  main.say('Find it.');
  const c1 = main.request([toolUse('toolu_1', 'Agent', { description: 'find it', prompt: 'Find the snippet.' })]);
  sub.say('Find the snippet.');
  const s1 = sub.request([text('Found.')]);
  main.results(toolResult('toolu_1', 'Found'));
  return assemble([c1, s1]).session(SESSION)!;
}

describe('live turn', () => {
  const d = detail();
  const sub = d.threads.find((t) => t.kind === 'subagent')!;
  const main = d.threads.find((t) => t.kind === 'main')!;

  test('partial output: text and thinking so far, a tool call with its arguments cut mid-way', () => {
    const turn = buildLiveTurn({
      callId: '42', model: 'claude-opus-4-6', startedAt: 1000, firstTokenAt: 2500, system: 'Main system prompt',
      output: [
        { type: 'thinking', text: 'Let me ' },
        { type: 'text', text: 'I will <b>run</b> it' },
        { type: 'tool-call', callId: 'toolu_9', name: 'Bash', arguments: '{"command": "ls -la /tm', kind: 'function' },
      ],
    }, d);
    assert.equal(turn.callId, '42');
    assert.equal(turn.threadHint, main.id);
    assert.equal(turn.status, 'claude-opus-4-6 · first token after 1.5 s');
    assert.deepEqual(turn.blocks, [
      { kind: 'thinking', text: 'Let me ', redacted: false },
      { kind: 'text', role: 'assistant', text: 'I will <b>run</b> it' },
      { kind: 'tool', name: 'Bash', summary: '{"command": "ls -la /tm', isError: false, callId: 'toolu_9', arguments: '{"command": "ls -la /tm', llmCallId: '42' },
    ]);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(turn)));
  });

  test('arguments that already parse are pretty-printed and summarised like a finished call', () => {
    const turn = buildLiveTurn({ callId: '43', startedAt: 1000, output: [{ type: 'tool-call', callId: 't', name: 'Bash', arguments: '{"command":"ls"}', input: { command: 'ls' }, kind: 'function' }] }, d);
    const tool = turn.blocks[0]!;
    assert.ok(tool.kind === 'tool');
    assert.equal(tool.summary, 'ls');
    assert.equal(tool.arguments, '{\n  "command": "ls"\n}');
    assert.equal(turn.status, 'waiting for the first token');
  });

  test('the thread hint follows the system prompt; an unknown one or no session gives none', () => {
    const base = { callId: '44', startedAt: 1, output: [] };
    assert.equal(buildLiveTurn({ ...base, system: 'Subagent system prompt' }, d).threadHint, sub.id);
    assert.equal(buildLiveTurn({ ...base, system: 'Some other prompt' }, d).threadHint, undefined);
    assert.equal(buildLiveTurn({ ...base, system: 'Main system prompt' }).threadHint, undefined);
    assert.deepEqual(buildLiveTurn(base, d).blocks, []);
    // The hint names a thread the view model has.
    assert.ok(buildViewModel(d).threads.some((t) => t.id === sub.id));
  });
});
