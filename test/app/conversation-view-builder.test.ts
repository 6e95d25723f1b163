// The conversation view model built from an assembled session, tool-call summaries, search, and
// the webview's HTML shell and message parsing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codiconStyle, conversationHtml } from '../../src/app/conversation-html';
import { assemble } from '../../src/conversation/assembler';
import { FIRST_SESSION_ID, parseWebviewMessage } from '../../src/shared/conversation-protocol';
import { filterTurns } from '../../src/shared/conversation-search';
import { buildViewModel, formatLatency, toolSummary } from '../../src/app/conversation-view-builder';
import { viewModelHead } from '../../src/app/view-model-head';
import { Clock, FullHistoryConversation, llmCall, text, thinking, toolResult, toolUse, usage } from '../support/llm-call-builder';

const SESSION = 'webview-session';

function detail() {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: 'Main system prompt', clock, model: 'claude-opus-4-6', tools: ['Agent', 'Bash'] });
  const sub = new FullHistoryConversation({ sessionId: SESSION, system: 'Subagent system prompt', clock, model: 'claude-opus-4-6' });
  main.say('<system-reminder>be brief</system-reminder>', 'Show me the code block.');
  const c1 = main.request([thinking('Let me delegate.'), toolUse('toolu_1', 'Agent', { description: 'find it', prompt: 'Find the snippet.' })], { usage: usage(100, 20, 900, 0) });
  sub.say('Find the snippet.');
  const s1 = sub.request([text('Found: <img src=x onerror=alert(1)>')]);
  main.results(toolResult('toolu_1', 'Found it'));
  const c2 = main.request([toolUse('toolu_2', 'Bash', { command: 'cat x.ts' })]);
  main.results(toolResult('toolu_2', 'permission denied', true));
  const c3 = main.request([text('Here it is.')]);
  const title = llmCall({ side: 'title', identity: { sessionId: SESSION }, startedAt: clock.next(), output: [text('{"title":"Show the snippet"}')], usage: usage(10, 2), model: 'claude-haiku-4-5' });
  return assemble([c1, s1, c2, c3, title]).session(SESSION)!;
}

describe('conversation view model', () => {
  test('threads, turns and blocks', () => {
    const vm = buildViewModel(detail());
    assert.equal(vm.sessionId, SESSION);
    assert.equal(vm.title, 'Show the snippet');
    const main = vm.threads.find((t) => t.kind === 'main')!;
    assert.equal(main.systemPrompt, 'Main system prompt');
    assert.deepEqual(main.tools, ['Agent', 'Bash']);
    assert.equal(main.turns.length, 1);
    const turn = main.turns[0]!;
    assert.equal(turn.prompt, 'Show me the code block.');
    assert.match(turn.stats, /in · .* out · \d+% cached · .* · [\d.]+ (ms|s)/);
    const kinds = turn.blocks.map((b) => b.kind);
    assert.ok(kinds.includes('scaffolding'), kinds.join());
    assert.ok(kinds.includes('thinking'));
    const tools = turn.blocks.filter((b) => b.kind === 'tool');
    assert.equal(tools.length, 2, 'paired results are not repeated as blocks');
    const agent = tools[0]!;
    assert.equal(agent.kind === 'tool' && agent.name, 'Agent');
    assert.equal(agent.kind === 'tool' && agent.summary, 'find it');
    assert.equal(agent.kind === 'tool' && agent.output, 'Found it');
    assert.equal(agent.kind === 'tool' && agent.arguments, JSON.stringify({ description: 'find it', prompt: 'Find the snippet.' }, null, 2));
    const sub = vm.threads.find((t) => t.kind === 'subagent')!;
    assert.equal(agent.kind === 'tool' && agent.subagentThreadId, sub.id);
    const bash = tools[1]!;
    assert.ok(bash.kind === 'tool' && bash.isError && bash.output === 'permission denied');
    assert.equal(bash.kind === 'tool' && bash.summary, 'cat x.ts');
    assert.ok(turn.blocks.some((b) => b.kind === 'text' && b.role === 'assistant' && b.text === 'Here it is.'));
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(vm)));
  });

  test('each thread carries its tool definitions once, the latest per name, in the order of the names', () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'tools', system: 'S', clock, tools: ['Agent', 'Bash'] });
    conv.say('one');
    const c1 = conv.request([text('a')]);
    conv.say('two');
    const c2 = conv.request([text('b')]);
    const schema = { type: 'object', properties: { command: { type: 'string' } } };
    c1.tools = [{ name: 'Agent', description: 'Start a subagent', kind: 'function' }, { name: 'Bash', description: 'old' }];
    c2.tools = [{ name: 'Bash', description: 'Run <b>a</b> command', inputSchema: schema, kind: 'function' }, { name: 'Agent', description: 'Start a subagent', kind: 'function' }];
    const thread = buildViewModel(assemble([c1, c2]).session('tools')!).threads[0]!;
    assert.deepEqual(thread.tools, ['Agent', 'Bash']);
    assert.deepEqual(thread.toolDefinitions.map((d) => d.name), ['Agent', 'Bash']);
    assert.deepEqual(thread.toolDefinitions[1], { name: 'Bash', description: 'Run <b>a</b> command', inputSchema: schema, kind: 'function' });
    assert.equal(thread.turns.length, 2);
    assert.ok(thread.turns.every((t) => !('toolDefinitions' in t)), 'not repeated per turn');
    // Once as a definition; the turn's call shows it again only as what changed (decision 68).
    const withoutCalls = { ...thread, turns: thread.turns.map(({ calls: _calls, ...turn }) => turn) };
    assert.equal(JSON.stringify(withoutCalls).split('Run <b>a</b> command').length, 2, 'the description is sent once');
    assert.match(thread.turns[1]!.calls[0]!.changes, /tools ~Bash/);
  });

  test('search filters turns by any of their text', () => {
    const main = buildViewModel(detail()).threads.find((t) => t.kind === 'main')!;
    assert.equal(filterTurns(main.turns, '').length, 1);
    assert.equal(filterTurns(main.turns, 'PERMISSION denied').length, 1);
    assert.equal(filterTurns(main.turns, 'be brief').length, 1);
    assert.equal(filterTurns(main.turns, 'nowhere to be found').length, 0);
  });

  // How long it takes is measured by bench/view-model-bench.ts.
  test('a 500-turn session builds with every turn in its main thread', () => {
    const clock = new Clock();
    const conv = new FullHistoryConversation({ sessionId: 'long', system: 'S', clock });
    const calls = [];
    for (let i = 0; i < 500; i++) {
      conv.say(`prompt ${i}`);
      calls.push(conv.request([text(`answer ${i}`)], { usage: usage(10, 5) }));
    }
    const d = assemble(calls).session('long')!;
    const vm = buildViewModel(d);
    assert.equal(vm.threads[0]!.turns.length, 500);
  });
});

describe('tool call summaries', () => {
  test('the most telling argument, on one line', () => {
    assert.equal(toolSummary('Bash', JSON.stringify({ command: 'ls -la\n  && pwd', description: 'list' })), 'ls -la && pwd');
    assert.equal(toolSummary('Read', JSON.stringify({ file_path: '/a/b.ts', limit: 10 })), '/a/b.ts');
    assert.equal(toolSummary('shell', JSON.stringify({ command: ['bash', '-lc', 'echo hi'] })), 'bash -lc echo hi');
    assert.equal(toolSummary('TodoWrite', JSON.stringify({ todos: [{}, {}] })), '2 items');
    assert.equal(toolSummary('apply_patch', '*** Begin Patch\n*** Update File: a.ts'), '*** Begin Patch *** Update File: a.ts');
    assert.equal(toolSummary('x', JSON.stringify({ n: 1 })), '{"n":1}');
    assert.equal(toolSummary('x', undefined), '');
    assert.equal(toolSummary('Bash', JSON.stringify({ command: 'y'.repeat(300) })).length, 100);
  });

  test('latency formats', () => {
    assert.equal(formatLatency(250), '250 ms');
    assert.equal(formatLatency(2500), '2.5 s');
    assert.equal(formatLatency(125_000), '2m 5s');
  });
});

describe('webview shell and protocol', () => {
  test('strict CSP with a nonce; the script carries it', () => {
    const html = conversationHtml({ cspSource: 'vscode-webview://abc', scriptUri: 'https://file/main.js', styleUri: 'https://file/style.css', codiconUri: 'https://file/codicon.css', nonce: 'N0nce' });
    assert.match(html, /default-src 'none'; script-src 'nonce-N0nce'; style-src vscode-webview:\/\/abc 'unsafe-inline'; font-src vscode-webview:\/\/abc; img-src vscode-webview:\/\/abc https: data:/);
    assert.match(html, /<script nonce="N0nce" src="https:\/\/file\/main.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  test('the script written into the page keeps its nonce and cannot end its element early', () => {
    const code = 'const a = "</script><script>alert(1)</script>"; const b = /<!--x/u; run();\n//# sourceMappingURL=main.js.map\n';
    const html = conversationHtml({ cspSource: 'vscode-webview://abc', scriptUri: 'https://file/main.js', inline: { script: code, style: 'body { color: red } </style><script>x()</script>', codicons: '.codicon {}' }, styleUri: 's', codiconUri: 'c', nonce: 'N0nce' });
    assert.match(html, /<style>body \{ color: red \} <\\\/style><script>x\(\)<\/script><\/style>/, 'the styles cannot end their element early either');
    assert.ok(!/<link/.test(html), 'no stylesheet is linked for the script to wait for');
    assert.equal((html.match(/<script nonce=/g) ?? []).length, 1, 'one script element, the nonced one');
    assert.equal((html.match(/<\/script/gi) ?? []).length, 2, 'closed once, at its end (the other is inside the escaped <style>)');
    assert.ok(!html.includes('<!--') && !html.includes('src="https://file/main.js"') && !html.includes('sourceMappingURL'));
    const body = /<script nonce="N0nce">([\s\S]*)<\/script>/.exec(html)![1]!;
    // The escaped code means the same: run it with the names it uses.
    let ran = false;
    new Function('run', body)(() => { ran = true; });
    assert.ok(ran);
    assert.equal(new Function(`${body.replace('run();', '')}; return a;`)(), '</script><script>alert(1)</script>');
  });

  test('the codicons written into the page keep their font, by its own URL, and link nothing for `load` to wait for (decision 86)', () => {
    const css = '@font-face {\n\tfont-family: "codicon";\n\tsrc: url("./codicon.ttf?721d") format("truetype");\n}\n.codicon-copy:before { content: "\\ebcc" }\n</style><script>x()</script>';
    const inlineCodicons = codiconStyle(css, 'https://file+.vscode-resource/ext/dist/webview/codicon.ttf');
    assert.match(inlineCodicons, /src: url\("https:\/\/file\+\.vscode-resource\/ext\/dist\/webview\/codicon\.ttf"\) format/);
    const html = conversationHtml({ cspSource: 'vscode-webview://abc', scriptUri: 's', inline: { script: 'run();', style: 'p {}', codicons: inlineCodicons }, styleUri: 's', codiconUri: 'c', nonce: 'N0nce' });
    assert.match(html, /<style id="vscode-codicon-stylesheet">@font-face/);
    assert.ok(html.includes('<\\/style><script>x()</script></style>'), 'the codicons cannot end their element early');
    assert.ok(!/<link/.test(html), 'no stylesheet is linked');
    assert.equal((html.match(/<script nonce=/g) ?? []).length, 1);
  });

  test('a page can carry its first session message, as JSON no text in it can end early (decision 89)', () => {
    const model = { ...buildViewModel(detail()), title: 'a </script><script>alert(1)</script> <!-- title \u2028' };
    const first = { type: 'session' as const, model, revision: 7, focus: { threadId: 't1' } };
    const html = conversationHtml({ cspSource: 'vscode-webview://abc', scriptUri: 's', inline: { script: 'run();', style: 'p {}', codicons: '' }, styleUri: 's', codiconUri: 'c', nonce: 'N0nce', first });
    const element = new RegExp(`<script type="application/json" id="${FIRST_SESSION_ID}">([^<]*)</script>`).exec(html);
    assert.ok(element, 'the message is in its own element, with no `<` inside');
    assert.deepEqual(JSON.parse(element[1]!), first);
    assert.equal((html.match(/<\/script/gi) ?? []).length, 2, 'each script element ends once, at its end');
    assert.ok(!conversationHtml({ cspSource: 'c', scriptUri: 's', styleUri: 's', codiconUri: 'c' }).includes(FIRST_SESSION_ID), 'none without it');
  });

  test('messages from the webview are validated', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', has: 7 }), { type: 'ready', has: 7 });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', has: '7' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'drawn', extra: 1 }), { type: 'drawn' });
    assert.deepEqual(parseWebviewMessage({ type: 'copy', text: 'x', extra: 1 }), { type: 'copy', text: 'x' });
    assert.equal(parseWebviewMessage({ type: 'copy', text: 1 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'evil' }), undefined);
    assert.equal(parseWebviewMessage(null), undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'openThread', threadId: 't' }), { type: 'openThread', threadId: 't' });
  });

  test('a long session goes to a new page head first: each thread cut to its first turns, nothing else changed', () => {
    const one = buildViewModel(detail());
    // Each thread with three turns (copies of its first, numbered on).
    const model = { ...one, threads: one.threads.map((t) => ({ ...t, turns: [0, 1, 2].map((index) => ({ ...t.turns[0]!, index })) })) };
    const longest = Math.max(...model.threads.map((t) => t.turns.length));
    assert.equal(viewModelHead(model, longest), undefined, 'no thread is longer than the head: the whole model goes at once');
    const head = viewModelHead(model, 1)!;
    assert.ok(head.threads.every((t, i) => t.turns.length === Math.min(1, model.threads[i]!.turns.length)));
    assert.deepEqual(head.threads.map((t) => t.turns[0]), model.threads.map((t) => t.turns[0]));
    assert.deepEqual({ ...head, threads: [] }, { ...model, threads: [] });
    assert.deepEqual(head.threads.map((t) => ({ ...t, turns: [] })), model.threads.map((t) => ({ ...t, turns: [] })), 'prompts, tools and stats whole');
  });
});
