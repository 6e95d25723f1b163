// The routing table: which exchanges are model calls and which dissector reads them; a user route
// for an OpenAI-compatible gateway; non-model endpoints yield nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExchangeRecord } from '../../src/capture/records';
import { dissectExchange, matchRoute, providerOfHost, withDefaultRoutes, type Route } from '../../src/llm';
import { httpCase } from './synthetic';

function exchange(method: string, url: string, kind: ExchangeRecord['kind'] = 'http'): ExchangeRecord {
  return { id: 1, connectionId: 1, method, url, httpVersion: '1.1', kind, requestHeaders: [], startedAt: 0, errors: [] };
}

describe('routing', () => {
  test('the default table knows each API by its path, on any host', () => {
    const cases: [string, string, string | undefined][] = [
      ['POST', 'https://api.anthropic.com/v1/messages?beta=true', 'anthropic-messages'],
      ['POST', 'https://api.anthropic.com/v1/messages/count_tokens?beta=true', 'anthropic-messages'],
      ['POST', 'https://api.openai.com/v1/responses', 'openai-responses'],
      ['POST', 'https://127.0.0.1:47111/v1/responses', 'openai-responses'],
      ['POST', 'https://chatgpt.com/backend-api/codex/responses', 'openai-responses'],
      ['POST', 'https://openrouter.ai/api/v1/chat/completions', 'openai-chat-completions'],
      ['POST', 'https://litellm-notrack.app.monadical.io/chat/completions', 'openai-chat-completions'],
      ['POST', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash-lite:generateContent', 'gemini'],
      ['POST', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse', 'gemini'],
      ['POST', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:countTokens', 'gemini'],
      // Not model calls: Claude Code's and Codex's side endpoints, and a GET on a model path.
      ['POST', 'https://api.anthropic.com/api/event_logging/v2/batch', undefined],
      ['GET', 'https://api.anthropic.com/api/claude_code/settings', undefined],
      ['GET', 'https://chatgpt.com/backend-api/codex/models?client_version=0.169.0', undefined],
      ['POST', 'https://chatgpt.com/backend-api/codex/analytics-events/events', undefined],
      ['GET', 'https://api.anthropic.com/v1/messages', undefined],
    ];
    for (const [method, url, api] of cases) {
      assert.equal(matchRoute(exchange(method, url))?.route.api, api, `${method} ${url}`);
    }
  });

  test('a WebSocket upgrade (GET) on the Responses path is routed', () => {
    assert.equal(matchRoute(exchange('GET', 'https://api.openai.com/v1/responses', 'websocket'))?.route.api, 'openai-responses');
    assert.equal(matchRoute(exchange('GET', 'https://api.openai.com/v1/responses', 'http')), undefined);
  });

  test('the provider comes from the host, or from the route', () => {
    assert.equal(providerOfHost('api.anthropic.com'), 'anthropic');
    assert.equal(providerOfHost('chatgpt.com'), 'openai');
    assert.equal(providerOfHost('myres.openai.azure.com'), 'openai');
    assert.equal(providerOfHost('generativelanguage.googleapis.com'), 'google');
    assert.equal(providerOfHost('openrouter.ai'), 'openrouter');
    assert.equal(providerOfHost('notanthropic.com'), 'other');
    assert.equal(providerOfHost('127.0.0.1'), 'other');
    const routes: Route[] = [{ host: 'claude-proxy.corp.example', path: '/v1/messages', api: 'anthropic-messages', provider: 'anthropic' }];
    assert.equal(matchRoute(exchange('POST', 'https://claude-proxy.corp.example/v1/messages'), routes)?.provider, 'anthropic');
  });

  test('a user route makes an OpenAI-compatible gateway on its own path decodable', () => {
    const input = httpCase({
      url: 'https://llm.corp.example/gateway/generate',
      request: { model: 'corp-model', messages: [{ role: 'user', content: 'hi' }] },
      response: { model: 'corp-model', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] },
    });
    assert.deepEqual(dissectExchange(input), [], 'unknown to the defaults');
    const routes = withDefaultRoutes([{ host: 'llm.corp.example', path: '/gateway/generate', api: 'openai-chat-completions' }]);
    const [call] = dissectExchange(input, routes);
    assert.equal(call?.api, 'openai-chat-completions');
    assert.equal(call?.provider, 'other');
    assert.deepEqual(call?.output, [{ type: 'text', text: 'hello' }]);
    assert.deepEqual(call?.errors, []);
  });

  test('host and path patterns: subdomain wildcards, one-segment and any-depth stars, earlier routes win', () => {
    const routes: Route[] = [
      { host: '*.corp.example', path: '/v*/chat', api: 'openai-chat-completions' },
      { host: '*', path: '**/generate', api: 'gemini' },
    ];
    assert.equal(matchRoute(exchange('POST', 'https://a.b.corp.example/v2/chat'), routes)?.route.api, 'openai-chat-completions');
    assert.equal(matchRoute(exchange('POST', 'https://corp.example/v2/chat'), routes), undefined, 'the bare domain is not a subdomain');
    assert.equal(matchRoute(exchange('POST', 'https://a.corp.example/v2/x/chat'), routes), undefined, 'one star is one segment');
    assert.equal(matchRoute(exchange('POST', 'https://x.example/a/b/c/generate'), routes)?.route.api, 'gemini');
    assert.equal(matchRoute(exchange('POST', 'https://x.example/v1.chat'), [{ host: '*', path: '/v1.chat', api: 'gemini' }])?.route.api, 'gemini');
    assert.equal(matchRoute(exchange('POST', 'https://x.example/v1Xchat'), [{ host: '*', path: '/v1.chat', api: 'gemini' }]), undefined, 'dots are literal');
  });
});
