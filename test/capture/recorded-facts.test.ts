// What the recorder keeps as facts rather than errors: a WebSocket that ended without a close
// frame (Codex does it after every turn) is its close message and outcome, not an error; a failure
// of the socket itself still is one. A TLS rejection that is reported only once the client has
// hung up still reaches its connection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TapEvent } from '../../src/proxy/tap';
import { harness, TapScript } from './capture-harness';

describe('recorded facts', () => {
  test('a socket the client dropped without a close frame: the close and outcome are kept, no error', async () => {
    const h = harness();
    const script = new TapScript();
    const ws = script.wsOpen('wss://api.openai.com/v1/responses', []);
    const id = ws.exchangeId;
    await h.run([
      script.open(), ...ws.events,
      { type: 'ws-message', exchangeId: id, time: script.time(), direction: 'client-to-server', opcode: 'text', data: Buffer.from('{"type":"response.create"}') },
      { type: 'ws-close', exchangeId: id, time: script.time(), direction: 'client-to-server', code: 1006, reason: '' },
      { type: 'exchange-end', exchangeId: id, time: script.time(), outcome: 'client-aborted', error: 'client closed without a close frame (1006)' },
    ]);
    const record = h.sink.exchange(id);
    assert.deepEqual(record.errors, []);
    assert.equal(record.outcome, 'client-aborted');
    const close = h.sink.ws(id).find((m) => m.opcode === 'close');
    assert.deepEqual(close && [close.direction, close.data.toString(), close.size], ['client-to-server', '1006', 0]);
  });

  test('a socket whose upstream failed keeps the failure as an error', async () => {
    const h = harness();
    const script = new TapScript();
    const ws = script.wsOpen('wss://api.openai.com/v1/responses', []);
    const error = 'llm-capture: websocket upstream api.openai.com:443 failed: read ECONNRESET';
    await h.run([script.open(), ...ws.events, { type: 'exchange-end', exchangeId: ws.exchangeId, time: script.time(), outcome: 'upstream-error', error }]);
    assert.deepEqual(h.sink.exchange(ws.exchangeId).errors, [error]);
  });

  test('a TLS rejection seen after the connection closed is recorded on the connection', async () => {
    const h = harness();
    const script = new TapScript();
    const events: TapEvent[] = [
      script.open('untrusted.example.test'),
      { type: 'connection-closed', connectionId: script.connectionId, time: script.time(), bytesFromClient: 300, bytesToClient: 1200 },
      { type: 'tls-handshake', connectionId: script.connectionId, time: script.time(), outcome: 'client-rejected-certificate', detail: 'the client closed the connection during the TLS handshake' },
    ];
    await h.run(events);
    assert.deepEqual(h.errors, []);
    const last = h.sink.calls.filter((c) => c.method === 'connectionUpdated').at(-1);
    assert.equal(last?.method === 'connectionUpdated' && last.record.tlsOutcome, 'client-rejected-certificate');
    assert.equal(last?.method === 'connectionUpdated' && last.record.closedAt !== undefined, true);
  });
});
