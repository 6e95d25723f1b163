// Stored exchanges of Claude Code calls, for tests that seed a store directly (no proxy): turn `t`
// of session `s` re-sends the history so far, answered "answer s.t".
import type { ExchangeRecord, StoredBody } from '../../src/capture/records';
import type { CaptureStore } from '../../src/store';

export const SEED_T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

export function storedBody(value: unknown): StoredBody {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

/** The wire session id of seeded session `s`. */
export const seededSessionId = (s: number) => `00000000-0000-4000-8000-${String(s).padStart(12, '0')}`;

/** Exchange `id`: call `turn` of session `s`, a Claude Code request resending the history so far, and its answer. */
export function claudeTurnExchange(id: number, s: number, turn: number, startedAt = SEED_T0 + id * 1000): ExchangeRecord {
  const messages: unknown[] = [];
  for (let t = 0; t <= turn; t++) {
    messages.push({ role: 'user', content: `session ${s} prompt ${t}` });
    if (t < turn) messages.push({ role: 'assistant', content: [{ type: 'text', text: `answer ${s}.${t}` }] });
  }
  return {
    id, connectionId: 1, method: 'POST', url: 'https://api.anthropic.com/v1/messages', httpVersion: '1.1', kind: 'http',
    requestHeaders: [['content-type', 'application/json'], ['x-claude-code-session-id', seededSessionId(s)], ['user-agent', 'claude-cli/2.0.0 (external, cli)']],
    requestBody: storedBody({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'You are Claude Code.', messages }),
    startedAt, statusCode: 200, responseHeaders: [['content-type', 'application/json']],
    responseBody: storedBody({ id: `msg_${id}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: `answer ${s}.${turn}` }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } }),
    responseStartedAt: startedAt + 100, endedAt: startedAt + 500, outcome: 'complete', errors: [],
  };
}

/**
 * Writes `turns` turns of `sessions` sessions into a store, turn by turn across the sessions (as
 * agents working at once would), on one connection; exchange ids run 1, 2, 3….
 */
export function writeTurns(store: CaptureStore, sessions: number, turns: number): void {
  store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: SEED_T0 });
  let id = 0;
  for (let turn = 0; turn < turns; turn++) for (let s = 0; s < sessions; s++) store.exchangeUpdated(claudeTurnExchange(++id, s, turn));
}
