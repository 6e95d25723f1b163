// The Markdown transcript (`show --markdown`): readable, complete, and safe with content that
// contains fences.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { renderMarkdownTranscript } from '../../src/conversation/markdown-transcript';
import { Clock, FullHistoryConversation, llmCall, text, thinking, toolResult, toolUse, usage } from '../support/llm-call-builder';

const SESSION = 'md-session';

function detail() {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: 'Main system prompt', clock, model: 'claude-opus-4-6' });
  const sub = new FullHistoryConversation({ sessionId: SESSION, system: 'Subagent system prompt', clock, model: 'mystery-model' });
  main.say('<system-reminder>be brief</system-reminder>', 'Show me the code block.');
  const c1 = main.request([thinking('Let me delegate.'), toolUse('toolu_1', 'Agent', { prompt: 'Find the snippet.' })]);
  sub.say('Find the snippet.');
  const s1 = sub.request([text('Found:\n```ts\nconst x = 1;\n```')]);
  main.results(toolResult('toolu_1', 'Found:\n```ts\nconst x = 1;\n```'));
  const c2 = main.request([toolUse('toolu_2', 'Bash', { command: 'cat x.ts' })]);
  main.results(toolResult('toolu_2', 'permission denied', true));
  const c3 = main.request([text('Here it is, with ```` inside.')]);
  const title = llmCall({ side: 'title', identity: { sessionId: SESSION }, startedAt: clock.next(), output: [text('{"title":"Show the snippet"}')], usage: usage(10, 2), model: 'claude-haiku-4-5' });
  return assemble([c1, s1, c2, c3, title]).session(SESSION)!;
}

describe('markdown transcript', () => {
  test('threads, turns, tool calls with results, usage and cost', () => {
    const md = renderMarkdownTranscript(detail());
    assert.match(md, /^# Show the snippet\n/);
    assert.match(md, /## Main thread · claude-opus-4-6/);
    assert.match(md, /## Subagent `agent:toolu_1` · mystery-model · started by tool call `toolu_1` in `main`/);
    assert.match(md, /### Turn 1 · .* · unknown \(no price for mystery-model\)/);
    assert.match(md, /> Show me the code block\./);
    assert.match(md, /\*\*Tool call\*\* `Agent` `toolu_1` → subagent `agent:toolu_1`/);
    assert.match(md, /\*\*Tool call\*\* `Bash` `toolu_2` \(error\)/);
    assert.match(md, /<summary>Result \(error\)<\/summary>/);
    assert.match(md, /<summary>Context injected by the client \(1\)<\/summary>/);
    assert.match(md, /<summary>Thinking<\/summary>/);
    assert.match(md, /## Side calls: title/);
    assert.match(md, /- Cost: unknown \(no price for mystery-model\)/);
  });

  test('fences are longer than any backtick run in the content', () => {
    const md = renderMarkdownTranscript(detail());
    // The tool result holds a ``` fence; it is wrapped in a ```` fence.
    assert.match(md, /````\nFound:\n```ts\nconst x = 1;\n```\n````/);
  });

  test('long system prompts, injected context and tool results are cut by default and whole with full', () => {
    const clock = new Clock();
    const system = `${'You are a careful agent. '.repeat(200)}END-OF-SYSTEM`;
    const context = `<system-reminder>${'Remember the rules. '.repeat(250)}END-OF-CONTEXT</system-reminder>`;
    const output = `${'line of output\n'.repeat(350)}END-OF-OUTPUT`;
    const chat = new FullHistoryConversation({ sessionId: 'long', system, clock, model: 'claude-opus-4-6' });
    chat.say(context, 'Read the file.');
    const c1 = chat.request([toolUse('toolu_1', 'Read', { path: 'a.txt' })]);
    chat.results(toolResult('toolu_1', output));
    const c2 = chat.request([text('Done.')]);
    const session = assemble([c1, c2]).session('long')!;
    assert.ok(system.length >= 5000 && context.length > 4000 && output.length > 4000);

    const short = renderMarkdownTranscript(session);
    assert.match(short, /… \(\d+ more characters\)/);
    for (const end of ['END-OF-SYSTEM', 'END-OF-CONTEXT', 'END-OF-OUTPUT']) assert.ok(!short.includes(end), `${end} is cut by default`);

    const full = renderMarkdownTranscript(session, { full: true });
    assert.doesNotMatch(full, /more characters\)/);
    assert.ok(full.includes(system), 'the whole system prompt');
    assert.ok(full.includes(context), 'the whole injected context');
    assert.ok(full.includes(output), 'the whole tool result');
  });

  test('options fold away thinking and scaffolding', () => {
    const md = renderMarkdownTranscript(detail(), { thinking: false, scaffolding: false });
    assert.doesNotMatch(md, /Thinking/);
    assert.doesNotMatch(md, /Context injected/);
  });
});
