// End to end: the real proxy's Tap feeding the recorder, with a real client on real sockets.
// Shows that what the tap emits assembles into the records this module promises: a gzip JSON
// body decoded, SSE events live and in order, a WebSocket conversation, and the client's secrets
// absent from everything the sink got while the upstream still received them untouched.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { Tap } from '../../src/proxy';
import { CaptureRecorder } from '../../src/capture/exchange-recorder';
import { GZIP_BODY, SSE_EVENTS } from '../support/fake-upstream';
import { ANTHROPIC, OPENAI, startHarness, type Harness } from '../support/proxy-harness';
import { RecordingSink } from './capture-harness';

const KEY = 'sk-ant-api03-E2E-FAKE-KEY-0123456789';

describe('capture behind the real proxy', { timeout: 60_000 }, () => {
  let h: Harness;
  const sink = new RecordingSink();
  const problems: string[] = [];
  const recorder = new CaptureRecorder(sink, { onError: (m) => problems.push(m) });

  before(async () => {
    const tap = new Tap();
    tap.subscribe(recorder.handle);
    h = await startHarness({ tap });
  });
  after(() => h.close());

  async function get(path: string, headers: Record<string, string>): Promise<Buffer> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      httpsRequest({ host: ANTHROPIC, port: 443, path, agent: h.agent(), headers }).on('response', resolve).on('error', reject).end();
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function settled(): Promise<void> {
    // The tap delivers on a later turn; then the recorder finishes what it was given.
    for (let i = 0; i < 50 && sink.calls.filter((c) => c.method === 'exchangeUpdated' && c.record.endedAt !== undefined).length < 4; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await recorder.flush();
    }
  }

  test('gzip JSON, SSE and WebSocket exchanges are recorded, decoded and redacted', async () => {
    const gz = await get(`/gzip?key=${KEY}`, { 'x-api-key': KEY, 'accept-encoding': 'gzip' });
    assert.ok(gz.equals(GZIP_BODY), 'the client got the compressed bytes untouched');
    const sse = await get('/sse', { authorization: `Bearer ${KEY}`, accept: 'text/event-stream' });
    assert.equal(sse.toString(), SSE_EVENTS.join(''));

    // The echo route answers with the request it got, headers included: the key comes back in a
    // response body (and sits in the request body) under no telling name.
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const req = httpsRequest({ host: ANTHROPIC, port: 443, method: 'POST', path: '/echo', agent: h.agent(),
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' } });
      req.on('response', async (res) => {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        resolve(Buffer.concat(chunks));
      }).on('error', reject);
      req.end(JSON.stringify({ messages: [{ role: 'user', content: `my key is ${KEY}` }] }));
    });
    assert.ok(echoed.includes(KEY), 'the upstream really echoed the key');

    const ws = new WebSocket(`wss://${OPENAI}/v1/responses`, { agent: h.agent(), perMessageDeflate: true, headers: { authorization: `Bearer ${KEY}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const wsEcho = new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer)));
    ws.send(JSON.stringify({ type: 'response.create', client_metadata: { api_key: KEY } }));
    await wsEcho;
    ws.close(1000, 'done');
    await new Promise((resolve) => ws.once('close', resolve));
    await settled();

    const upstreamSaw = h.fake.requests.filter((r) => r.url === '/echo');
    assert.ok(upstreamSaw.at(-1)?.rawHeaders.includes(KEY), 'forwarding kept the real key');
    assert.ok(upstreamSaw.at(-1)?.body.includes(KEY));

    const finals = new Map<string, ReturnType<RecordingSink['exchange']>>();
    for (const c of sink.calls) if (c.method === 'exchangeUpdated' && c.record.endedAt !== undefined) finals.set(new URL(c.record.url).pathname, c.record);
    const gzip = finals.get('/gzip')!;
    assert.equal(gzip.responseBody?.encoding, 'gzip');
    assert.ok(gzip.responseBody?.data.equals(gunzipSync(GZIP_BODY)));
    assert.match(gzip.url, /\?key=\[REDACTED:[0-9a-f]{8}\]$/);
    assert.deepEqual(gzip.errors, []);

    const sseRecord = finals.get('/sse')!;
    assert.equal(sseRecord.kind, 'sse');
    assert.deepEqual(sink.sse(sseRecord.id).map((e) => e.event), ['message_start', 'content_block_delta', 'content_block_delta', 'message_stop']);

    const wsRecord = finals.get('/v1/responses')!;
    assert.equal(wsRecord.kind, 'websocket');
    const messages = sink.ws(wsRecord.id);
    assert.deepEqual(messages.map((m) => [m.direction, m.opcode]).slice(0, 2), [['client-to-server', 'text'], ['server-to-client', 'text']]);
    assert.equal(messages.at(-1)?.opcode, 'close');

    const echo = finals.get('/echo')!;
    assert.ok(echo.responseBody!.data.length > 100 && echo.requestBody!.data.includes('my key is [REDACTED:'));
    assert.ok(!sink.dump().includes(KEY), 'the key reached the sink nowhere');
    assert.deepEqual(problems, []);
    assert.equal(recorder.openExchanges, 0);
  });
});
