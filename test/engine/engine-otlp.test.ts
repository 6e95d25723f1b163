// The engine's OpenTelemetry export, driven as the extension drives it: `llmCapture.otlp.*` in the
// settings of capture.start. A call through the proxy reaches the collector as spans, the log says
// where they go, the cursor is kept beside the store, and a bad endpoint is one error line while
// capture goes on.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS, type CaptureSettings } from '../../src/app/capture-settings';
import { EngineClient } from '../../src/engine/engine-client';
import type { CaptureInfo, EngineEvent } from '../../src/engine/protocol';
import { CURSOR_FILE } from '../../src/telemetry/export-cursor';
import { until } from '../support/engine-events';
import { startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { startFakeCollector, type FakeCollector } from '../support/fake-otlp-collector';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';

const HOST = 'api.anthropic.com';
const SESSION = '0b9f3c1e-1111-4222-8333-444455556666';

describe('the engine exports to OpenTelemetry when the settings say so', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let fake: FakeApiServer;
  let collector: FakeCollector;
  let engine: EngineClient;
  const dirs: string[] = [];
  const logs: string[] = [];

  before(async () => {
    pki = createTestPki();
    fake = await startFakeAnthropic(pki.serverCert([HOST]));
    collector = await startFakeCollector();
    engine = new EngineClient();
    engine.onEvent((e: EngineEvent) => {
      if (e.type === 'log') logs.push(`${e.level}: ${e.message}`);
    });
  });

  after(async () => {
    await engine?.dispose();
    await fake?.close();
    await collector?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const settings = (otlp: Partial<CaptureSettings['otlp']>): CaptureSettings => ({
    ...DEFAULT_SETTINGS, interceptHosts: [HOST], upstreamCaFiles: [pki.caCertPath], mapHosts: [`${HOST}:443=127.0.0.1:${fake.port}`],
    otlp: { ...DEFAULT_SETTINGS.otlp, enabled: true, agentIdleSeconds: 1, ...otlp },
  });

  const ask = (capture: CaptureInfo, prompt: string) => fetchVia(new TunnelAgent({ proxyUrl: capture.url, ca: readFileSync(capture.ca.certPath, 'utf8') }, { keepAlive: false }), HOST, 443, {
    method: 'POST', path: '/v1/messages',
    headers: { 'content-type': 'application/json', 'user-agent': 'claude-cli/2.0.0 (external, cli)', 'x-claude-code-session-id': SESSION },
    body: [JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 100, messages: [{ role: 'user', content: prompt }] })],
  });

  it('sends a captured call and its agent span, and keeps the cursor beside the store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-engine-otlp-'));
    dirs.push(dataDir);
    const capture = await engine.request('capture.start', { dataDir, settings: settings({ endpoint: collector.url }), token: 't' });
    assert.equal((await ask(capture, 'Say hello')).statusCode, 200);
    await collector.waitFor(() => collector.spans().some((s) => s.name === 'invoke_agent claude-code' && s.attributes['gen_ai.conversation.id'] === SESSION), 30_000).catch((e: Error) => assert.fail(`${e.message}\n${logs.join('\n')}`));
    const chat = collector.spans().find((s) => s.name === 'chat claude-sonnet-4-5')!;
    assert.equal(chat.attributes['gen_ai.conversation.id'], SESSION);
    assert.ok(logs.some((l) => l.startsWith('info: OpenTelemetry: exporting to http://127.0.0.1:') && l.includes('/v1/traces (http/protobuf)')), logs.join('\n'));
    await engine.request('capture.stop', {});
    assert.ok(existsSync(join(dataDir, CURSOR_FILE)));
    const cursor = JSON.parse(readFileSync(join(dataDir, CURSOR_FILE), 'utf8')) as { cursors: Record<string, { sentUpTo: number }> };
    assert.ok(cursor.cursors[`${collector.url}/v1/traces`]!.sentUpTo > 0);
  });

  it('turns the export on and off while capturing, without restarting the proxy', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-engine-otlp-live-'));
    dirs.push(dataDir);
    const capture = await engine.request('capture.start', { dataDir, settings: settings({ enabled: false }), token: 't' });
    const other = await startFakeCollector();
    try {
      await engine.request('capture.otlp', { otlp: { ...settings({}).otlp, endpoint: other.url } });
      const session = '0b9f3c1e-1111-4222-8333-77778888aaaa';
      const res = await fetchVia(new TunnelAgent({ proxyUrl: capture.url, ca: readFileSync(capture.ca.certPath, 'utf8') }, { keepAlive: false }), HOST, 443, {
        method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json', 'user-agent': 'claude-cli/2.0.0 (external, cli)', 'x-claude-code-session-id': session },
        body: [JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'after the switch' }] })],
      });
      assert.equal(res.statusCode, 200);
      await other.waitFor(() => other.spans().some((s) => s.name === 'chat claude-sonnet-4-5' && s.attributes['gen_ai.conversation.id'] === session), 30_000);
      await engine.request('capture.otlp', { otlp: { ...settings({}).otlp, enabled: false } });
      await until('the stop line', () => logs.find((l) => l === 'info: OpenTelemetry: export stopped'));
      const again = await engine.request('capture.start', { dataDir, settings: settings({ enabled: false }), token: 't' });
      assert.equal(again.port, capture.port, 'the same capture, never restarted');
    } finally {
      await engine.request('capture.stop', {});
      await other.close();
    }
  });

  it('says a bad endpoint in one line and captures all the same', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-engine-otlp-bad-'));
    dirs.push(dataDir);
    const capture = await engine.request('capture.start', { dataDir, settings: settings({ endpoint: 'localhost:4318' }), token: 't' });
    const line = await until('the error line', () => logs.find((l) => l.includes('OpenTelemetry export is off')));
    assert.match(line, /^error: OpenTelemetry: OpenTelemetry export is off: the OTLP endpoint "localhost:4318\/v1\/traces" must be http:\/\/ or https:\/\//);
    assert.equal((await ask(capture, 'Still captured')).statusCode, 200);
    await engine.request('capture.stop', {});
  });
});
