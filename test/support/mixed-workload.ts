// Three clients at work at the same time, their calls interleaved as a store would hold them:
// Claude Code with a subagent on its session id, Codex chaining WebSocket frames, OpenCode with a
// child session that its task result names, a title call and a failed call retried.
import type { LlmCall } from '../../src/llm/llm-call';
import {
  ChainedSocket, Clock, developer, FullHistoryConversation, llmCall, text, toolMessage, toolResult, toolUse, user, usage,
} from './llm-call-builder';

/** Three clients working at the same time, their calls interleaved as a store would hold them. */
export function mixedWorkload(): LlmCall[] {
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

