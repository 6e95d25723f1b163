// A call whose request could not be read (no `messages` array) and that got no answer leaves an
// empty segment in its session. Found by fuzzing: the next anonymous call with the same system
// prompt, asking whether it continues that session, walked the empty segment and threw, and the
// whole session list failed with it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { dissectExchange } from '../../src/llm';
import { httpCase } from '../llm/synthetic';

const URL = 'https://api.anthropic.com/v1/messages';
const HEADERS = { 'user-agent': 'claude-cli/2.0.0 (external, cli)' };
const ANSWER = [
  { event: 'message_start', data: { type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 5, output_tokens: 1 } } } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } } },
  { event: 'message_stop', data: { type: 'message_stop' } },
];

describe('a session holding an unreadable call', () => {
  test('the next call is placed without throwing, and both sessions list', () => {
    const calls = [
      ...dissectExchange(httpCase({ url: URL, headers: HEADERS, request: { model: 'claude-x', max_tokens: 5, stream: true, system: 'S', messages: 'x' }, sse: [] })),
      ...dissectExchange(httpCase({ url: URL, headers: HEADERS, request: { model: 'claude-x', max_tokens: 5, stream: true, system: 'S', messages: [{ role: 'user', content: 'hi' }] }, sse: ANSWER })),
    ];
    assert.equal(calls[0]?.input.length, 0);
    const assembler = assemble(calls);
    const sessions = assembler.sessions();
    assert.equal(sessions.reduce((n, s) => n + s.callCount, 0), 2);
    for (const s of sessions) assert.ok(assembler.session(s.id));
  });
});
