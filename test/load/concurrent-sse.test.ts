// Load: 1,000 SSE streams at once through `llm-capture proxy --data-dir`, as a user runs it. Every
// client must get exactly the bytes the upstream sent, and once the proxy has stopped the store must
// hold all 1,000 exchanges complete with their bodies, and `log` and `sessions` must read it.
//
// Each stream is its own CONNECT tunnel: an HTTP/1.1 streaming answer holds its connection, so
// 1,000 concurrent streams are 1,000 connections whichever way an agent pools them (see
// test/support/sse-load-client.ts). The fake holds every stream after message_start until all
// 1,000 have arrived, so they really are concurrent (test/support/sse-load-upstream.ts).
// Nothing here asserts a duration; the timeouts only turn a hang into a failure.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaptureStore } from '../../src/store';
import { runCli, startCliProxy, type RunningCliProxy } from '../cli/cli-process';
import { tlsThroughProxy } from '../support/proxied-request';
import { runLoad, sha256, type StreamResult } from '../support/sse-load-client';
import { LOAD_STREAM_HEADER, startLoadUpstream, type LoadUpstream } from '../support/sse-load-upstream';
import { createTestPki, type TestPki } from '../support/test-pki';

const STREAMS = 1000;
const HOST = 'api.anthropic.com';

describe(`${STREAMS} concurrent SSE streams through the capturing proxy`, { timeout: 240_000 }, () => {
  let pki: TestPki;
  let fake: LoadUpstream;
  let dataDir: string;
  let proxy: RunningCliProxy;
  let results: StreamResult[];
  let stopCode: number | null;

  before(async () => {
    pki = createTestPki();
    fake = await startLoadUpstream({ tls: pki.serverCert([HOST]), deltas: 20, gapMs: 5 });
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-load-'));
    proxy = await startCliProxy(['--data-dir', dataDir, '--intercept', HOST, '--upstream-ca', pki.caCertPath,
      '--map', `${HOST}:443=127.0.0.1:${fake.port}`, '--only-mapped']);
    const target = { proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') };
    try {
      results = await runLoad(() => tlsThroughProxy(target, HOST, 443), { count: STREAMS, host: HOST, batch: 'load', timeoutMs: 150_000 });
    } catch (e) {
      // Which side lost track of the run: requests that never reached the fake point at the proxy.
      throw new Error(`${(e as Error).message} (${fake.arrived()} of ${STREAMS} requests reached the upstream)\n${proxy.stderr().slice(-2000)}`);
    }
    // Stopping drains the recorder and writes the final snapshot.
    stopCode = await proxy.stop();
  });

  after(async () => {
    await proxy?.stop();
    await fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('every client received exactly the bytes the upstream sent', () => {
    assert.equal(results.length, STREAMS);
    const wrong = results.filter((r) => {
      const sent = fake.streams.get(r.id);
      return r.status !== 200 || !r.whole || sent?.sha256 !== r.sha256 || sent.bytes !== r.bytes || r.delaysMs.length !== 20;
    });
    assert.deepEqual(wrong.map((r) => r.id), [], `${wrong.length} streams differ from what the upstream sent`);
  });

  it('the proxy stopped cleanly and reported no error', () => {
    assert.equal(stopCode, 0, proxy.stderr());
    assert.doesNotMatch(proxy.stderr(), /\[(error|warn)\]/, 'the proxy logged a warning or an error');
  });

  it('log lists all exchanges complete, with no error', async () => {
    const out = await runCli(['log', '--data-dir', dataDir, '--json', '--limit', '2000']);
    assert.equal(out.code, 0, out.stderr);
    const entries = JSON.parse(out.stdout) as { kind: string; status?: number; url: string; responseBytes?: number; durationMs?: number; error?: string }[];
    assert.equal(entries.length, STREAMS, 'one log entry per stream, nothing else');
    const sentBytes = [...fake.streams.values()].map((s) => s.bytes).sort((a, b) => a - b);
    const bad = entries.filter((e) => e.kind !== 'sse' || e.status !== 200 || e.error !== undefined || e.durationMs === undefined);
    assert.deepEqual(bad, [], 'every entry is a finished SSE exchange without error');
    assert.deepEqual(entries.map((e) => e.responseBytes ?? 0).sort((a, b) => a - b), sentBytes, 'every response body was counted whole');
  });

  it('the store holds every exchange with the response body the client got, byte for byte', async () => {
    const received = new Map(results.map((r) => [r.id, r.sha256]));
    const store = await CaptureStore.open({ dataDir, mode: 'reader' });
    try {
      const problems: string[] = [];
      const seen = new Set<string>();
      for (let before: number | undefined; ;) {
        const page = store.listExchanges({ limit: 1000, before });
        for (const summary of page.items) {
          const x = store.getExchange(summary.id);
          const id = x?.requestHeaders.find(([name]) => name.toLowerCase() === LOAD_STREAM_HEADER)?.[1] ?? `?${summary.id}`;
          seen.add(id);
          const body = x?.responseBody;
          if (!body || body.truncated || sha256(body.data) !== received.get(id)) problems.push(`${id}: response body ${body ? `${body.data.length} bytes${body.truncated ? ', truncated' : ''}` : 'missing'}`);
          if ((x?.errors.length ?? 0) > 0) problems.push(`${id}: ${x?.errors.join('; ')}`);
          if (!x?.requestBody || x.requestBody.data.length === 0) problems.push(`${id}: no request body`);
        }
        if (page.next === undefined) break;
        before = page.next;
      }
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
      assert.equal(seen.size, STREAMS, 'every stream stored once');
    } finally {
      await store.close();
    }
  });

  it('sessions reads the store and accounts for every call', async () => {
    const out = await runCli(['sessions', '--data-dir', dataDir, '--json']);
    assert.equal(out.code, 0, out.stderr);
    const sessions = JSON.parse(out.stdout) as { callCount: number }[];
    assert.ok(sessions.length > 0);
    assert.equal(sessions.reduce((sum, s) => sum + s.callCount, 0), STREAMS);
  });
});
