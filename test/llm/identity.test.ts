// Identity from the wire: session ids in every form the clients send, Codex's turn metadata, the
// order of trust between sources, and the system-prompt fingerprint used when there is no id.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { claudeSessionId, dissectExchange, systemFingerprint } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { loadClientHttp, loadClientWs, readJson, WIRE } from './fixture-loader';
import { clone, httpCase, wsCase } from './synthetic';

interface RequestFile { url: string; headers: Record<string, string>; body: Record<string, unknown> }

const claudeRequest = readJson<RequestFile>(join(WIRE, 'clients', 'claude', '01-text', '01-request.json'));
const ANTHROPIC = 'https://api.anthropic.com/v1/messages?beta=true';
const RESPONSES = 'https://api.openai.com/v1/responses';

function dissectOne(url: string, headers: Record<string, string>, body: unknown): LlmCall {
  const [call] = dissectExchange(httpCase({ url, headers, request: body, response: {} }));
  assert.ok(call);
  return call;
}

describe('identity', () => {
  test('metadata.user_id in its three forms', () => {
    // Legacy string (greyproxy 383, Claude Code 2.1.74), JSON-encoded string (2.1.197), plain object.
    const legacy = 'user_d8c2852a80886e9e8cfcc2a52f56471ed547d89697660bfafc151313cca09e6b_account_5a3241c6-4cbe-47e2-a7d3-981f6bf69be8_session_33a9d683-ef38-4571-92b9-1ae2bf7a6be3';
    const encoded = (claudeRequest.body.metadata as { user_id: string }).user_id;
    const object = { device_id: 'd', account_uuid: '', session_id: 'obj-session-1' };
    assert.equal(claudeSessionId(legacy), '33a9d683-ef38-4571-92b9-1ae2bf7a6be3');
    assert.equal(claudeSessionId(encoded), '294890b3-0cd7-45d7-b8df-a617e0a2993b');
    assert.equal(claudeSessionId(object), 'obj-session-1');
    assert.equal(claudeSessionId('user_abc_account_'), undefined);
    assert.equal(claudeSessionId('{not json'), undefined);

    for (const [userId, expected] of [[legacy, '33a9d683-ef38-4571-92b9-1ae2bf7a6be3'], [encoded, '294890b3-0cd7-45d7-b8df-a617e0a2993b'], [object, 'obj-session-1']] as const) {
      const body = clone(claudeRequest.body);
      body.metadata = { user_id: userId };
      const headers = { ...claudeRequest.headers };
      delete headers['x-claude-code-session-id'];
      const call = dissectOne(ANTHROPIC, headers, body);
      assert.equal(call.identity.sessionId, expected);
      assert.equal(call.identity.sessionIdSource, 'body:metadata.user_id');
    }
  });

  test('the session header wins over the body, which wins over conventions', () => {
    const body = clone(claudeRequest.body);
    body.metadata = { user_id: { session_id: 'from-body' } };
    const call = dissectOne(ANTHROPIC, { 'x-claude-code-session-id': 'from-header', 'x-session-id': 'ses_other' }, body);
    assert.equal(call.identity.sessionId, 'from-header');
    assert.equal(call.identity.sessionIdSource, 'header:x-claude-code-session-id');
  });

  test('x-codex-turn-metadata alone gives the session, thread, turn and thread source', () => {
    const meta = { session_id: 'sess-1', thread_id: 'thread-1', turn_id: 'turn-1', request_kind: 'turn', thread_source: 'user' };
    const call = dissectOne(RESPONSES, { originator: 'codex-tui', 'x-codex-turn-metadata': JSON.stringify(meta) }, { model: 'gpt-x', input: [] });
    assert.deepEqual(
      [call.identity.sessionId, call.identity.sessionIdSource, call.identity.threadId, call.identity.turnId, call.identity.threadSource],
      ['sess-1', 'header:x-codex-turn-metadata', 'thread-1', 'turn-1', 'user'],
    );
    assert.equal(call.client, 'codex');
  });

  test('prompt_cache_key and x-session-id are session ids when nothing better is sent', () => {
    assert.equal(dissectOne(RESPONSES, {}, { model: 'm', input: [], prompt_cache_key: 'ses_abc' }).identity.sessionIdSource, 'body:prompt_cache_key');
    const opencode = dissectOne(ANTHROPIC, { 'x-session-id': 'ses_xyz' }, { model: 'm', messages: [] });
    assert.equal(opencode.identity.sessionId, 'ses_xyz');
    assert.equal(opencode.identity.sessionIdSource, 'header:x-session-id');
    assert.equal(dissectOne(ANTHROPIC, {}, { model: 'm', messages: [] }).identity.sessionId, undefined);
  });

  test('on a WebSocket the handshake turn metadata (a prewarm) does not stick to later frames', () => {
    const handshake = { 'x-codex-turn-metadata': JSON.stringify({ session_id: 's', thread_id: 't', turn_id: '', request_kind: 'prewarm' }), originator: 'codex_exec' };
    const calls = dissectExchange(wsCase(RESPONSES, handshake, [
      { dir: 'in', data: { type: 'response.create', model: 'm', input: [{ type: 'message', role: 'user', content: 'hi' }] } },
      { dir: 'out', data: { type: 'response.completed', response: { id: 'r1', status: 'completed', output: [] } } },
    ]));
    assert.equal(calls[0]?.side, undefined);
    assert.equal(calls[0]?.identity.sessionId, 's');
    assert.equal(calls[0]?.identity.turnId, undefined);
  });

  test('Codex frames carry their own turn id in client_metadata', () => {
    const [, turn] = dissectExchange(loadClientWs('codex/01-ws-default-provider', 2));
    assert.equal(turn?.identity.turnId, '01a20f69-c84a-7491-be7a-c84dd7ebdd4e');
    assert.equal(turn?.identity.threadId, '01a20f69-c837-7560-b7ad-08fc6207ca3c');
  });

  test('the system fingerprint ignores the billing line and dates, and separates different prompts', () => {
    const base = 'x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli; cch=775ab;\nYou are a Claude agent.\nToday\'s date is 2026-11-24.';
    const later = 'x-anthropic-billing-header: cc_version=2.1.197.43e; cc_entrypoint=sdk-cli; cch=58842;\nYou are a Claude agent.\nToday\'s date is 2026-11-25.';
    assert.equal(systemFingerprint(base), systemFingerprint(later));
    assert.notEqual(systemFingerprint(base), systemFingerprint(base.replace('Claude agent', 'subagent')));
    assert.match(systemFingerprint(base) ?? '', /^[0-9a-f]{16}$/);
    assert.equal(systemFingerprint('x-anthropic-billing-header: cch=1;\n  '), undefined);

    // Two Claude Code sessions with different billing lines; Codex's prompt over HTTP and over WebSocket.
    const a = dissectExchange(loadClientHttp('claude/01-text', '01'))[0]!;
    const b = dissectExchange(loadClientHttp('claude/02-tool-thinking', '01'))[0]!;
    assert.notEqual(a.system, b.system);
    assert.equal(a.identity.systemFingerprint, b.identity.systemFingerprint);
    const http = dissectExchange(loadClientHttp('codex/03-http-sse-custom-provider', '01'))[0]!;
    const ws = dissectExchange(loadClientWs('codex/04-ws-custom-provider-tool', 1));
    assert.ok(http.identity.systemFingerprint);
    for (const call of ws) assert.equal(call.identity.systemFingerprint, http.identity.systemFingerprint, call.id);
  });
});
