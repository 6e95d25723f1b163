// Captured JSON may nest without limit; everything after JSON.parse recurses. Objects and arrays
// deeper than MAX_JSON_DEPTH read as a placeholder, the call is still read (a note, not an error),
// and brackets or quotes inside strings do not count as nesting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJson, TOO_DEEP } from '../../src/llm/json-value';
import { httpCase } from './synthetic';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('deeply nested JSON', () => {
  test('the limit is exact, and strings do not count', () => {
    assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
    assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
    assert.equal(nestsDeeperThan(`["${'['.repeat(1000)}", "a \\" [[[ \\\\", {"k": "{{{{"}]`, 3), false);
    assert.equal(nestsDeeperThan(`["\\\\", [[[1]]]]`, 3), true, 'an escaped backslash before a quote ends the string');
  });

  test('parseJson cuts below the limit and keeps the rest', () => {
    const shallow = parseJson(nested(MAX_JSON_DEPTH));
    assert.ok(shallow.ok && shallow.cut === undefined);
    const deep = parseJson(`{"keep":"me","deep":${nested(100_000)}}`);
    assert.ok(deep.ok && deep.cut);
    const value = deep.value as { keep: string; deep: unknown };
    assert.equal(value.keep, 'me');
    let node: unknown = value.deep;
    let depth = 1;
    while (Array.isArray(node)) {
      node = node[0];
      depth++;
    }
    assert.equal(node, TOO_DEEP);
    assert.equal(depth, MAX_JSON_DEPTH, 'the placeholder stands at the first level past the limit');
    assert.doesNotThrow(() => JSON.stringify(value));
  });

  test('a request with a deep tool input is read, with a note and no error', () => {
    const request = `{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"},`
      + `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"probe","input":${nested(100_000).replace(/^\[/, '{"a":[').replace(/\]$/, ']}')}}]},`
      + `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`;
    const [call] = dissectExchange(httpCase({ url: 'https://api.anthropic.com/v1/messages', request, response: '{"type":"message","role":"assistant","content":[{"type":"text","text":"done"}],"usage":{"input_tokens":1,"output_tokens":1}}' }));
    assert.ok(call);
    assert.deepEqual(call.errors, []);
    assert.match(call.notes?.[0] ?? '', /request body nests objects or arrays deeper than 128 levels/);
    assert.equal(call.input.length, 3);
    assert.deepEqual(call.output, [{ type: 'text', text: 'done' }]);
  });
});
