// Live previews end to end: a real proxy and recorder write a streaming Anthropic exchange into a
// real store, and LiveSessions (as the extension pumps it) shows what has arrived while the stream
// is held half way, then, once it has ended, assembles the call and drops the preview.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaptureService } from '../../src/app/capture-service';
import type { WsMessageRecord } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { LiveSessions, type PendingCall } from '../../src/app/live-sessions';
import { parseMapping } from '../../src/proxy';
import { readJsonBody } from '../support/fake-anthropic';
import { DEADLOCK_TIMEOUT } from '../support/proxy-harness';
import { TunnelAgent } from '../support/proxied-request';
import { sseEvent, sseEvents, writeSse } from '../support/sse';
import { createTestPki, type TestPki } from '../support/test-pki';

const SESSION = '0b5e1c9a-3f4d-4c51-9d7e-2a1f6c3b8e10';
const HOST = 'api.anthropic.com';

const delta = (index: number, d: Record<string, unknown>) => sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: d });
/** Up to the hold: text and a tool call whose JSON input is cut mid-way. */
const FIRST = [
  sseEvent('message_start', { type: 'message_start', message: { id: 'msg_live', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 12, output_tokens: 1 } } }),
  sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  delta(0, { type: 'text_delta', text: 'Hello ' }),
  delta(0, { type: 'text_delta', text: 'wor' }),
  sseEvent('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_live', name: 'Bash', input: {} } }),
  delta(1, { type: 'input_json_delta', partial_json: '{"command": "ec' }),
];
const REST = [
  delta(1, { type: 'input_json_delta', partial_json: 'ho hi"}' }),
  sseEvent('content_block_stop', { type: 'content_block_stop', index: 1 }),
  sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }),
  sseEvent('message_stop', { type: 'message_stop' }),
];

/** Pumps `live` the way the extension does until `done` holds (the recorder writes asynchronously). */
async function pumpUntil(live: LiveSessions, done: () => boolean): Promise<string[]> {
  const pendingChanged: string[] = [];
  for (;;) {
    pendingChanged.push(...live.update().pendingChanged);
    if (done()) return pendingChanged;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('live previews through the real proxy and store', { timeout: DEADLOCK_TIMEOUT * 3 }, () => {
  let pki: TestPki;
  let upstream: Server;
  let service: CaptureService;
  let agent: TunnelAgent;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const dataDir = mkdtempSync(join(tmpdir(), 'llm-capture-live-preview-'));

  before(async () => {
    pki = createTestPki();
    upstream = createServer(pki.serverCert([HOST]), (req, res) => {
      void (async () => {
        await readJsonBody(req);
        await writeSse(res, FIRST);
        await held;
        await writeSse(res, REST);
        res.end();
      })().catch((e: unknown) => res.destroy(e as Error));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    service = await CaptureService.start({
      dataDir, port: 0, intercept: [HOST], upstreamCaFiles: [pki.caCertPath], map: [parseMapping(`${HOST}:443=127.0.0.1:${port}`)], onlyMapped: true,
    });
    agent = new TunnelAgent({ proxyUrl: service.proxy.url, ca: service.proxy.ca.certPem });
  });

  after(async () => {
    release();
    agent.destroy();
    await service.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('mid-stream the preview holds the text and tool arguments so far; at the end the call is assembled', async () => {
    const live = new LiveSessions(service.store);
    const req = httpsRequest({
      host: HOST, port: 443, method: 'POST', path: '/v1/messages', agent,
      headers: { 'content-type': 'application/json', 'x-claude-code-session-id': SESSION, 'user-agent': 'claude-cli/2.0.0 (external, cli)' },
    });
    const response = new Promise<import('node:http').IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    req.end(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, system: 'You are Claude Code.', messages: [{ role: 'user', content: 'Say hello, then run echo' }] }));
    const events = sseEvents(await response);
    // The client has everything up to the hold.
    for (let i = 0; i < FIRST.length; i++) assert.equal((await events.next()).value, FIRST[i]);

    const toolArgs = (p: PendingCall | undefined) => p?.output.find((b) => b.type === 'tool-call')?.arguments;
    const changed = await pumpUntil(live, () => toolArgs(live.pending(SESSION)[0]) === '{"command": "ec');
    const [pending] = live.pending(SESSION);
    assert.ok(pending);
    assert.equal(pending.model, 'claude-sonnet-4-5');
    assert.equal(pending.system, 'You are Claude Code.');
    assert.equal(typeof pending.startedAt, 'number');
    assert.deepEqual(pending.output, [
      { type: 'text', text: 'Hello wor' },
      { type: 'tool-call', callId: 'toolu_live', name: 'Bash', arguments: '{"command": "ec', kind: 'function' },
    ]);
    assert.ok(changed.includes(SESSION), 'the update that found the preview names its session');
    assert.deepEqual([...live.streaming()], [SESSION]);
    assert.equal(live.calls, 0, 'nothing is assembled while the exchange is open');
    assert.equal(live.assembler.session(SESSION), undefined);

    // Cost bound: an update with nothing new dissects nothing, so the preview is the same object.
    const again = live.update();
    assert.deepEqual(again.pendingChanged, []);
    assert.equal(live.pending(SESSION)[0], pending);

    release();
    const rest: string[] = [];
    for await (const e of events) rest.push(e);
    assert.deepEqual(rest, REST);
    const ended = await pumpUntil(live, () => live.calls === 1);
    assert.ok(ended.includes(SESSION), 'the update that assembled the call says its preview went');
    assert.deepEqual(live.pending(SESSION), []);
    assert.equal(live.streaming().size, 0);
    const detail = live.assembler.session(SESSION);
    assert.ok(detail);
    const steps = detail.threads[0]!.turns.flatMap((t) => t.steps);
    assert.ok(steps.some((s) => s.type === 'text' && s.text === 'Hello wor'), 'the text as it ended (the hold was inside a tool call)');
    assert.ok(steps.some((s) => s.type === 'tool_call' && s.arguments === '{"command": "echo hi"}'));
  });
});

describe('live previews of a WebSocket response', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-live-ws-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the span without response.completed is previewed; a socket with no new frame is not dissected again', async () => {
    const store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
    try {
      const t0 = Date.UTC(2026, 10, 24, 12);
      store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, targetHost: 'api.openai.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: t0 });
      store.exchangeUpdated({
        id: 1, connectionId: 1, method: 'GET', url: 'https://api.openai.com/v1/responses', httpVersion: '1.1', kind: 'websocket', statusCode: 101,
        requestHeaders: [['session-id', 'codex-live']], startedAt: t0, errors: [],
      });
      let seq = 0;
      const frame = (direction: WsMessageRecord['direction'], value: unknown) => {
        const data = Buffer.from(JSON.stringify(value));
        store.wsMessage({ exchangeId: 1, seq: seq++, time: t0 + seq, direction, opcode: 'text', data, size: data.length });
      };
      frame('client-to-server', { type: 'response.create', model: 'gpt-5-codex', instructions: 'You are Codex.', input: [{ role: 'user', content: 'go' }] });
      frame('server-to-client', { type: 'response.created', response: { id: 'resp_1' } });
      frame('server-to-client', { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'shell', arguments: '' } });
      frame('server-to-client', { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: '{"cmd":["ls' });
      const live = new LiveSessions(store);
      assert.deepEqual(live.update().pendingChanged, ['codex-live']);
      const [pending] = live.pending('codex-live');
      assert.equal(pending?.callId, '1:0');
      assert.equal(pending?.model, 'gpt-5-codex');
      assert.deepEqual(pending?.output.map((b) => b.type === 'tool-call' && b.arguments), ['{"cmd":["ls']);
      assert.deepEqual(live.update().pendingChanged, [], 'no new frame: nothing dissected');
      assert.equal(live.pending('codex-live')[0], pending);

      frame('server-to-client', { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [{ type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'shell', arguments: '{"cmd":["ls"]}' }] } });
      const u = live.update();
      assert.equal(u.added, 1, 'the completed span is assembled while the socket stays open');
      assert.deepEqual(u.pendingChanged, ['codex-live']);
      assert.deepEqual(live.pending('codex-live'), []);
    } finally {
      await store.close();
    }
  });
});
