// Side requests are classified from wire evidence: Claude Code's Haiku title generator and
// count_tokens, Codex's title threads and prewarm frames, OpenCode's title calls, Gemini CLI's
// complexity scorer, Claude Code's prompt suggestions. Main calls are left unclassified.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { loadClientHttp, loadClientWs, loadGreyproxy, readJson, WIRE } from './fixture-loader';
import { clone, httpCase } from './synthetic';

interface RequestFile { url: string; headers: Record<string, string>; body: Record<string, unknown> }

const claude = readJson<RequestFile>(join(WIRE, 'clients', 'claude', '01-text', '01-request.json'));
const ANTHROPIC = 'https://api.anthropic.com/v1/messages?beta=true';
const TITLE_PROMPT = 'Generate a concise, sentence-case title (3-7 words) that captures the main topic or goal of this coding session.';

function one(input: Parameters<typeof dissectExchange>[0]): LlmCall {
  const calls = dissectExchange(input);
  assert.equal(calls.length, 1);
  return calls[0]!;
}

/** Claude Code's title request (a Haiku call asking for a title), built from a real request of the same session. */
function claudeTitleRequest(): Record<string, unknown> {
  const body = clone(claude.body);
  body.model = 'claude-haiku-4-5-20251001';
  body.tools = [];
  body.thinking = { type: 'disabled' };
  body.output_config = { format: { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } };
  body.system = [(claude.body.system as unknown[])[0], { type: 'text', text: TITLE_PROMPT }];
  body.messages = [{ role: 'user', content: 'say hi' }];
  return body;
}

describe('side requests', () => {
  test("Claude Code's Haiku title generator, by its prompt or by its {title} JSON schema", () => {
    const headers = { ...claude.headers, 'anthropic-beta': 'interleaved-thinking-2025-05-14' };
    const full = one(httpCase({ url: ANTHROPIC, headers, request: claudeTitleRequest(), response: {} }));
    assert.equal(full.side, 'title');
    assert.equal(full.client, 'claude-code');
    assert.equal(full.identity.sessionId, '294890b3-0cd7-45d7-b8df-a617e0a2993b', 'same session as the main agent');

    const schemaOnly = claudeTitleRequest();
    schemaOnly.system = 'You name things.';
    assert.equal(one(httpCase({ url: ANTHROPIC, headers, request: schemaOnly, response: {} })).side, 'title');
    const promptOnly = claudeTitleRequest();
    delete promptOnly.output_config;
    assert.equal(one(httpCase({ url: ANTHROPIC, headers, request: promptOnly, response: {} })).side, 'title');
  });

  test('count_tokens calls (Claude Code /context)', () => {
    for (const nn of ['01', '02']) assert.equal(one(loadClientHttp('claude/05-count-tokens', nn)).side, 'count-tokens');
  });

  test("Codex's title thread: thread_source thread_title, its own session id", () => {
    const meta = { session_id: 'title-sess', thread_id: 'title-sess', turn_id: 't1', request_kind: 'turn', thread_source: 'thread_title' };
    const call = one(httpCase({
      url: 'https://api.openai.com/v1/responses',
      headers: { originator: 'codex-tui', 'session-id': 'title-sess', 'x-codex-turn-metadata': JSON.stringify(meta) },
      request: { model: 'gpt-5.4-mini', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'please TOOL run echo' }] }], stream: true },
      response: {},
    }));
    assert.equal(call.side, 'title');
    assert.equal(call.identity.threadSource, 'thread_title');
    assert.equal(call.identity.sessionId, 'title-sess');
    const byPrompt = one(httpCase({
      url: 'https://api.openai.com/v1/responses', headers: { originator: 'codex_exec' },
      request: { model: 'm', input: [{ type: 'message', role: 'user', content: 'Generate a concise, single-line task title for: fix the build' }] },
      response: {},
    }));
    assert.equal(byPrompt.side, 'title');
  });

  test('prewarm frames on a WebSocket, and generate:false over HTTP', () => {
    const calls = dissectExchange(loadClientWs('codex/01-ws-default-provider', 1));
    assert.deepEqual(calls.map((c) => c.side), ['prewarm', undefined]);
    const http = one(httpCase({ url: 'https://api.openai.com/v1/responses', request: { model: 'm', input: [], generate: false }, response: { id: 'r1', status: 'completed', output: [] } }));
    assert.equal(http.side, 'prewarm');
    assert.deepEqual(http.errors, [], 'a prewarm needs no input');
  });

  test("OpenCode's title calls on Anthropic and OpenAI models", () => {
    assert.equal(one(loadClientHttp('opencode/01-anthropic', '01')).side, 'title');
    assert.equal(one(loadClientHttp('opencode/02-openai-http', '01')).side, 'title');
    assert.equal(one(loadGreyproxy('openai_1163')).side, 'title');
    assert.equal(one(loadClientHttp('opencode/01-anthropic', '02')).side, undefined);
  });

  test("Gemini CLI's flash-lite complexity scorer, but not its main call", () => {
    assert.equal(one(loadGreyproxy('gemini_scorer_2570')).side, 'complexity-scorer');
    assert.equal(one(loadGreyproxy('gemini_main_2571')).side, undefined);
  });

  test("Claude Code's prompt suggestion ([SUGGESTION MODE: …]) is a side request; the turn before it is not", () => {
    assert.equal(one(loadGreyproxy('428')).side, 'other');
    assert.equal(one(loadGreyproxy('427')).side, undefined);
  });

  test('a user quoting a title prompt in an earlier turn does not make a main call a title call', () => {
    const body = clone(claude.body);
    body.messages = [
      { role: 'user', content: 'Explain the prompt "You are a title generator"' },
      { role: 'assistant', content: 'It asks for a title.' },
      { role: 'user', content: 'thanks' },
    ];
    assert.equal(one(httpCase({ url: ANTHROPIC, headers: claude.headers, request: body, response: {} })).side, undefined);
  });
});
