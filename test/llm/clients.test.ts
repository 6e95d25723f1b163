// Client detection: headers first (user agent, originator, client headers), then the body for
// captures without headers or behind a gateway that rewrites them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { ClientKind } from '../../src/llm/llm-call';
import { httpCase } from './synthetic';

const RESPONSES = 'https://api.openai.com/v1/responses';
const CHAT = 'https://openrouter.ai/api/v1/chat/completions';

function clientOf(url: string, headers: Record<string, string>, request: unknown): ClientKind | undefined {
  return dissectExchange(httpCase({ url, headers, request, response: {} }))[0]?.client;
}

describe('client detection', () => {
  test('by headers', () => {
    const cases: [Record<string, string>, ClientKind][] = [
      [{ 'user-agent': 'claude-cli/2.1.197 (external, cli)' }, 'claude-code'],
      [{ 'x-claude-code-session-id': 'abc' }, 'claude-code'],
      [{ originator: 'codex_exec' }, 'codex'],
      [{ originator: 'codex-tui' }, 'codex'],
      [{ 'user-agent': 'codex_cli_rs/0.1' }, 'codex'],
      [{ originator: 'opencode', 'user-agent': 'opencode/1.18.33' }, 'opencode'],
      [{ 'user-agent': 'ai-sdk/openrouter/1.5.4, opencode/1.2.6' }, 'opencode'],
      [{ 'x-session-id': 'ses_df095cac9ffeBo3gcNPi8PEq9g' }, 'opencode'],
      [{ 'user-agent': 'GeminiCLI/0.36.0/gemini-3.1-pro-preview (linux; x64; terminal)' }, 'gemini-cli'],
      // 0.61 names its front end: the TUI (also `-p`), a subcommand, ACP (alone or for an editor).
      [{ 'user-agent': 'GeminiCLI-tui/0.61.0/gemini-2.5-pro (linux; x64; terminal)' }, 'gemini-cli'],
      [{ 'user-agent': 'GeminiCLI-cli-command/0.61.0/gemini-2.5-pro (linux; x64; SURFACE_NOT_SET)' }, 'gemini-cli'],
      [{ 'user-agent': 'GeminiCLI-acp-zed/0.61.0/gemini-2.5-pro (darwin; arm64; zed)' }, 'gemini-cli'],
      [{ 'user-agent': 'CloudCodeVSCode/0.61.0 (aidev_client; os_type=Linux; os_version=6.1.0; arch=x64; host_path=VSCode/1.101.0; proxy_client=geminicli)' }, 'gemini-cli'],
      [{ 'user-agent': 'GeminiCLIx/1.0' }, 'generic'],
      [{ 'user-agent': 'CloudCodeVSCode/2.40.0 (aidev_client; os_type=Linux)' }, 'generic'],
      [{ 'user-agent': 'litellm/1.68.1', 'X-Title': 'Aider', 'Http-Referer': 'https://aider.chat' }, 'aider'],
      [{ 'user-agent': 'curl/8.5.0' }, 'generic'],
      [{}, 'generic'],
    ];
    for (const [headers, expected] of cases) {
      assert.equal(clientOf(RESPONSES, headers, { model: 'm', input: [] }), expected, JSON.stringify(headers));
    }
  });

  test('by the body when there are no telling headers', () => {
    const sys = (text: string) => ({ model: 'm', messages: [{ role: 'system', content: text }, { role: 'user', content: 'hi' }] });
    const cases: [unknown, ClientKind][] = [
      [sys("You are Claude Code, Anthropic's official CLI for Claude."), 'claude-code'],
      [sys('You are OpenCode, the best coding agent on the planet.'), 'opencode'],
      [sys('You are Gemini CLI, an autonomous CLI agent.'), 'gemini-cli'],
      [sys('Act as an expert software developer.\nAlways use best practices when coding.'), 'aider'],
      [{ ...sys('You are helpful.'), prompt_cache_key: 'ses_2af2ef724ffeUHjFHEhGOFhyXe' }, 'opencode'],
      [sys('You are helpful.'), 'generic'],
    ];
    for (const [request, expected] of cases) assert.equal(clientOf(CHAT, {}, request), expected, JSON.stringify(request).slice(0, 80));
    assert.equal(clientOf(RESPONSES, {}, { model: 'm', input: [{ role: 'developer', content: 'You are Codex, a coding agent based on GPT-5.' }] }), 'codex');
  });

  test('headers win over the body', () => {
    assert.equal(clientOf(CHAT, { 'X-Title': 'Aider' }, { model: 'm', messages: [{ role: 'system', content: 'You are OpenCode.' }] }), 'aider');
  });
});
