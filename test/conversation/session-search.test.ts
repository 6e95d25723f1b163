// Search across sessions (decision 71), on a real Claude Code session (greyproxy's captures): where
// a match is, its snippet, the filters, and the filter words of the one-box query.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import { parseSearchText, searchSession, sessionMatches } from '../../src/conversation/session-search';
import { dissectExchange } from '../../src/llm';
import { loadGreyproxy } from '../llm/fixture-loader';

function session() {
  const assembler = assemble(['383', '384', '427', '428', '517'].flatMap((n) => dissectExchange(loadGreyproxy(n))));
  return assembler.session(assembler.sessions()[0]!.id)!;
}

describe('search across sessions', () => {
  test('a prompt, a tool result and the system prompt are found, case aside, each with the words around it', () => {
    const detail = session();
    const [prompt] = searchSession(detail, 'RELATION WITH MONADICAL');
    assert.equal(prompt?.field, 'prompt');
    assert.equal(prompt?.threadKind, 'main');
    assert.match(prompt!.snippet, /What's the relation with monadical \?/);
    const results = searchSession(detail, 'Comprehensive Analysis');
    assert.ok(results.some((h) => h.field === 'result'), JSON.stringify(results, null, 1));
    assert.ok(results.every((h) => h.snippet.length <= 200));
    const system = searchSession(detail, "Anthropic's official CLI");
    assert.ok(system.some((h) => h.field === 'system prompt' && h.turnIndex === 0));
    assert.deepEqual(searchSession(detail, '   '), [], 'only spaces match nothing');
    // As a pattern, `with.monadical` would match "with monadical"; as the literal text it is, nothing does.
    assert.equal(searchSession(detail, 'with monadical').length, 1);
    assert.deepEqual(searchSession(detail, 'with.monadical'), [], 'the query is literal text, not a pattern');
  });

  test('filters: client, model, time, errors; and as words in one box', () => {
    const detail = session();
    const s = detail.summary;
    assert.ok(sessionMatches(s, { client: 'claude-code', model: 'OPUS' }));
    assert.ok(!sessionMatches(s, { client: 'codex' }));
    assert.ok(!sessionMatches(s, { since: s.endedAt + 1 }));
    assert.ok(!sessionMatches(s, { until: s.startedAt - 1 }));
    assert.deepEqual(searchSession(detail, 'monadical', { errors: true }), [], 'no turn of it has a failed tool call');
    assert.deepEqual(parseSearchText('retry client:codex model:gpt-5 since:2026-12-01 errors: on reset'), {
      query: 'retry on reset', filters: { client: 'codex', model: 'gpt-5', since: Date.parse('2026-12-01'), errors: true },
    });
    assert.deepEqual(parseSearchText('since:notadate x'), { query: 'since:notadate x', filters: {} }, 'a filter that does not parse is text');
  });
});
