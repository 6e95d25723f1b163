// Capture to disk through the real CLI: `llm-capture proxy --data-dir` stores what passes, `log` lists
// it, `export --har` writes valid HAR, `import` reads it back, and no secret reaches any of them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { runCli, startCliProxy, type RunningCliProxy } from './cli-process';

// har-validator ships no types; its promise API resolves true or rejects with the errors.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };

const KEY = 'sk-ant-api03-FAKEKEY-abcdefghijklmnopqrstuvwxyz0123456789';
const OAUTH = 'oauth-refresh-FAKE-0123456789abcdefghij';

describe('capture to disk through the CLI', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let fake: FakeUpstream;
  let dataDir: string;
  let proxy: RunningCliProxy;
  let agent: TunnelAgent;

  before(async () => {
    pki = createTestPki();
    fake = await startFakeUpstream(pki.serverCert(['api.anthropic.com', 'api.openai.com']));
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-cli-store-'));
    proxy = await startCliProxy(['--data-dir', dataDir, '--intercept', 'api.anthropic.com,api.openai.com', '--upstream-ca', pki.caCertPath,
      '--map', `api.anthropic.com:443=127.0.0.1:${fake.port}`, '--map', `api.openai.com:443=127.0.0.1:${fake.port}`, '--only-mapped']);
    agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: false });

    // A secret in every place a request can carry one (query, headers, cookie, JSON body); the fake's echo route sends the request back too.
    await fetchVia(agent, 'api.anthropic.com', 443, {
      method: 'POST', path: `/v1/messages?key=${KEY}`,
      headers: { 'x-api-key': KEY, authorization: `Bearer ${KEY}`, cookie: `session=${KEY}`, 'content-type': 'application/json' },
      body: [JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }], auth: { refresh_token: OAUTH } })],
    });
    await fetchVia(agent, 'api.anthropic.com', 443, { path: '/sse' });
    await fetchVia(agent, 'api.anthropic.com', 443, { path: '/gzip' });
    // Bad input: a body that says JSON but is not.
    await fetchVia(agent, 'api.openai.com', 443, { method: 'POST', path: '/v1/responses', headers: { 'content-type': 'application/json' }, body: ['{"not json'] });
    // Bad input: a truncated gzip request body (the upstream gets it as sent).
    await fetchVia(agent, 'api.openai.com', 443, { method: 'POST', path: '/v1/other', headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' }, body: [gzipSync('{"a":1}').subarray(0, 12)] });

    const ws = new WebSocket('wss://api.openai.com/v1/responses', { agent, perMessageDeflate: true, headers: { authorization: `Bearer ${KEY}` } });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const echoed = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ type: 'response.create', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello ws' }] }] }));
    await echoed;
    ws.send(Buffer.from([0, 1, 2, 255]));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.close(1000, 'done');
    await new Promise((resolve) => ws.once('close', resolve));
    // The store's journal reaches the disk within ~100 ms; stopping also snapshots.
    assert.equal(await proxy.stop(), 0, proxy.stderr());
  });

  after(async () => {
    agent?.destroy();
    await proxy?.stop();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('log lists every exchange, with errors for the bad bodies and no secret', async () => {
    const text = await runCli(['log', '--data-dir', dataDir, '--json']);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(!text.stdout.includes(KEY) && !text.stdout.includes(OAUTH), 'a secret reached the log');
    const entries = JSON.parse(text.stdout) as { url: string; kind: string; status?: number; error?: string }[];
    const byPath = (p: string) => entries.find((e) => e.kind !== 'websocket' && new URL(e.url).pathname === p);
    assert.equal(byPath('/sse')?.kind, 'sse');
    assert.equal(byPath('/gzip')?.status, 200);
    assert.equal(entries.filter((e) => e.kind === 'websocket').length, 1);
    assert.match(byPath('/v1/responses')?.error ?? '', /not valid JSON/i);
    assert.match(byPath('/v1/other')?.error ?? '', /gzip|unexpected end|truncat/i);
    const plain = await runCli(['log', '--data-dir', dataDir, '--limit', '3']);
    assert.equal(plain.stdout.trim().split('\n').length, 3);
  });

  it('export writes HAR that har-validator accepts, without secrets; import and re-export give the same entries', async () => {
    const first = join(dataDir, 'first.har');
    const out = await runCli(['export', '--har', first, '--data-dir', dataDir]);
    assert.equal(out.code, 0, out.stderr);
    const raw = readFileSync(first, 'utf8');
    assert.ok(!raw.includes(KEY) && !raw.includes(OAUTH), 'a secret reached the HAR');
    const har = JSON.parse(raw);
    await assert.doesNotReject(harValidator.har(har), 'har-validator rejected the export');
    const ws = har.log.entries.find((e: { _resourceType?: string }) => e._resourceType === 'websocket');
    assert.deepEqual(ws._webSocketMessages.map((m: { type: string; opcode: number }) => `${m.type}:${m.opcode}`), ['send:1', 'receive:1', 'send:2', 'receive:2', 'send:8']);
    const gz = har.log.entries.find((e: { request: { url: string } }) => e.request.url.endsWith('/gzip'));
    assert.match(gz.response.content.text, /"compressed":true/, 'bodies are exported decoded');

    const otherDir = mkdtempSync(join(tmpdir(), 'llmc-cli-import-'));
    try {
      const imported = await runCli(['import', first, '--data-dir', otherDir]);
      assert.equal(imported.code, 0, imported.stderr);
      const second = join(otherDir, 'second.har');
      assert.equal((await runCli(['export', '--har', second, '--data-dir', otherDir])).code, 0);
      const again = JSON.parse(readFileSync(second, 'utf8'));
      assert.deepEqual(again.log.entries.map(comparable), har.log.entries.map(comparable));
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('import redacts a HAR written by another tool', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'llmc-cli-import-'));
    const file = join(otherDir, 'chrome.har');
    try {
      const entry = {
        startedDateTime: new Date().toISOString(), time: 5, cache: {}, timings: { send: 1, wait: 3, receive: 1 },
        request: { method: 'POST', url: `https://api.anthropic.com/v1/messages?api_key=${KEY}`, httpVersion: 'HTTP/1.1', cookies: [], headersSize: -1, bodySize: 20,
          headers: [{ name: 'x-api-key', value: KEY }], queryString: [], postData: { mimeType: 'application/json', text: JSON.stringify({ access_token: OAUTH }) } },
        response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headersSize: -1, bodySize: 2, redirectURL: '',
          headers: [{ name: 'content-type', value: 'application/json' }], content: { size: 2, mimeType: 'application/json', text: '{}' } },
      };
      writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, entries: [entry] } }));
      assert.equal((await runCli(['import', file, '--data-dir', otherDir])).code, 0);
      const log = await runCli(['log', '--data-dir', otherDir, '--json']);
      const exported = join(otherDir, 'out.har');
      await runCli(['export', '--har', exported, '--data-dir', otherDir]);
      const stored = readFileSync(join(otherDir, 'capture.journal')).toString('latin1') + log.stdout + readFileSync(exported, 'utf8');
      assert.ok(!stored.includes(KEY) && !stored.includes(OAUTH), 'an imported secret was stored');
      assert.match(readFileSync(exported, 'utf8'), /\[REDACTED:[0-9a-f]{8}\]/);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('bad arguments get one line and exit code 2', async () => {
    for (const args of [['log', '--limit', 'x'], ['export'], ['import'], ['show']]) {
      const r = await runCli([...args, '--data-dir', dataDir]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});

/** An entry without what legitimately changes between stores (ids). */
function comparable(entry: { connection?: string; _llmCapture?: Record<string, unknown> }) {
  const { connection: _c, _llmCapture, ...rest } = entry;
  const { exchangeId: _e, connectionId: _i, ...extras } = _llmCapture ?? {};
  return { ...rest, _llmCapture: extras };
}
