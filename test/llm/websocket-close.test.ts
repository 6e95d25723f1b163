// How a Responses WebSocket ends: Codex drops the socket without a close frame (1006) after every
// turn, so a close is no fault of a response that had already completed; a response still
// streaming when the socket closed or ended is marked unfinished.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import { loadClientWs } from './fixture-loader';
import { wsCase } from './synthetic';

const RESPONSES = 'https://api.openai.com/v1/responses';
const create = { dir: 'in' as const, data: { type: 'response.create', model: 'm', input: [] } };
const created = { dir: 'out' as const, data: { type: 'response.created', response: { id: 'r1' } } };
const completed = { dir: 'out' as const, data: { type: 'response.completed', response: { id: 'r1', status: 'completed', output: [] } } };

describe('the end of a Responses WebSocket', () => {
  test('a recorded Codex socket (every response completed, then 1006) has no unfinished call and no error', () => {
    const calls = dissectExchange(loadClientWs('codex/01-ws-default-provider', 1));
    assert.ok(calls.length > 0);
    assert.deepEqual(calls.map((c) => c.unfinished), calls.map(() => undefined));
    assert.deepEqual(calls.flatMap((c) => c.errors), []);
  });

  test('a close in the middle of a response marks that call unfinished', () => {
    const [call] = dissectExchange(wsCase(RESPONSES, { originator: 'codex_exec' }, [create, created, { dir: 'close', data: '1006' }]));
    assert.equal(call?.unfinished, true);
  });

  test('a socket that ended with a response still open marks it unfinished; a live one does not', () => {
    const frames = [create, created];
    assert.equal(dissectExchange(wsCase(RESPONSES, {}, frames, true))[0]?.unfinished, true);
    assert.equal(dissectExchange(wsCase(RESPONSES, {}, frames, false))[0]?.unfinished, undefined);
  });

  test('only the response the close cut off is unfinished', () => {
    const calls = dissectExchange(wsCase(RESPONSES, {}, [create, created, completed, create, created, { dir: 'close', data: '1006' }]));
    assert.deepEqual(calls.map((c) => c.unfinished), [undefined, true]);
  });
});
