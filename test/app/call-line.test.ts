// The lines the headless proxy prints: one per LLM call (time, client, model, short session id,
// tokens, cost, duration, status or error), and one per host tunnelled or refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockTime, formatCallLine, formatRefusedLine, formatTunnelLine, refusalReason, shortSessionId, tokens } from '../../src/app/call-line';
import { llmCall, text, usage, user } from '../support/llm-call-builder';

const AT = new Date(2026, 10, 24, 9, 5, 7).getTime();
const SESSION = '3f2a9c1d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

describe('call lines', () => {
  test('a completed call: local time, client, model, short session, tokens with cache reads, cost, duration, status', () => {
    const call = llmCall({ startedAt: AT, durationMs: 2400, model: 'claude-sonnet-4-5-20250929', usage: usage(1234, 345, 12_000) });
    // (1234 × $3 + 345 × $15 + 12000 × $0.30) per million tokens = $0.012477.
    assert.equal(formatCallLine(call, SESSION), '09:05:07 claude-code claude-sonnet-4-5-20250929 3f2a9c1d in 1.23k out 345 cache 12k $0.0125 2.4s 200');
  });

  test('a model without a known price costs "-", never a guess', () => {
    const call = llmCall({ startedAt: AT, durationMs: 300, model: 'some-new-model', usage: usage(10, 5) });
    assert.equal(formatCallLine(call, SESSION), '09:05:07 claude-code some-new-model 3f2a9c1d in 10 out 5 - 300ms 200');
  });

  test('an HTTP error shows its status and the provider\'s error', () => {
    const call = llmCall({ startedAt: AT, durationMs: 90, status: 529, errors: ['HTTP 529: overloaded_error: Overloaded'] });
    assert.match(formatCallLine(call, SESSION), / 90ms ERROR 529 overloaded_error: Overloaded$/);
  });

  test('a call that failed on the way shows its first problem', () => {
    const call = llmCall({
      startedAt: AT, transport: 'websocket', client: 'codex', model: 'gpt-5.1-codex', status: 101,
      errors: ['The socket closed (1006) before the response completed.', 'another'],
    });
    assert.match(formatCallLine(call, SESSION), / ERROR: The socket closed \(1006\) before the response completed\. \(\+1 more\)$/);
  });

  test('side requests are marked, Codex\'s title thread and recognised instructions included', () => {
    assert.match(formatCallLine(llmCall({ startedAt: AT, side: 'count-tokens' }), SESSION), / 3f2a9c1d \[count-tokens\] in 0 out 0 \$0\.0000 /);
    const titleThread = llmCall({ startedAt: AT, client: 'codex', identity: { sessionId: 'x', threadSource: 'thread_title' }, usage: usage(5, 2) });
    assert.match(formatCallLine(titleThread, 'x'), / x \[title\] /);
    const plain = llmCall({ startedAt: AT, input: [user('hi')], output: [text('hello')] });
    assert.doesNotMatch(formatCallLine(plain, SESSION), /\[/);
  });

  test('session ids: a wire id\'s first 8 characters, the assembler\'s anonymous ids whole', () => {
    assert.equal(shortSessionId(SESSION), '3f2a9c1d');
    assert.equal(shortSessionId('anon:gemini-cli:12'), 'anon:gemini-cli:12');
  });

  test('numbers and times', () => {
    assert.equal(clockTime(AT), '09:05:07');
    assert.deepEqual([0, 999, 1000, 1500, 12_345, 1_000_000, 2_500_000].map(tokens), ['0', '999', '1k', '1.5k', '12.3k', '1M', '2.5M']);
  });

  test('hosts tunnelled or refused, with the reason in short', () => {
    assert.equal(formatTunnelLine(AT, 'example.com:443'), '09:05:07 tunnel example.com:443 (not intercepted)');
    assert.equal(refusalReason('llm-capture: refusing to connect to a.test:443: it is not mapped and --only-mapped is set'), 'not mapped, and --only-mapped is set');
    assert.equal(refusalReason('llm-capture: cannot reach a.test:443 (mapped to 127.0.0.1:9): connect ECONNREFUSED 127.0.0.1:9'), 'upstream unreachable: connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(refusalReason('llm-capture: upstream a.test:443 failed: getaddrinfo ENOTFOUND a.test (ENOTFOUND)'), 'upstream unreachable: getaddrinfo ENOTFOUND a.test (ENOTFOUND)');
    assert.equal(formatRefusedLine(AT, 'a.test:443', 'x'), '09:05:07 refused a.test:443: x');
  });
});
