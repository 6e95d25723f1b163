// The feed behind the headless proxy's output, over a real store: calls captured before it started
// are neither printed nor read (a large store's history must not keep the capturing thread busy),
// so an anonymous session is printed as `anon:<client>`, its number left to `sessions`; each host
// is announced once; other exchanges only when verbose.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CallFeed } from '../../src/app/call-feed';
import { assembleSessions } from '../../src/app/session-index';
import type { ExchangeRecord } from '../../src/capture';
import { CaptureStore } from '../../src/store';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
let nextId = 1;

function body(value: unknown): NonNullable<ExchangeRecord['requestBody']> {
  const data = Buffer.from(JSON.stringify(value));
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

/** A Chat Completions call with no session id: the assembler names its session `anon:generic:<n>`. */
function chat(store: CaptureStore, at: number, system: string, url = 'https://llm.corp.test/v1/chat/completions'): void {
  const id = nextId++;
  store.connectionUpdated({ id, clientAddress: '127.0.0.1', clientPort: 40000 + id, targetHost: 'llm.corp.test', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: at });
  store.exchangeUpdated({
    id, connectionId: id, method: 'POST', url, httpVersion: '1.1', kind: 'http', statusCode: 200,
    requestHeaders: [['content-type', 'application/json']], responseHeaders: [['content-type', 'application/json']],
    requestBody: body({ model: 'gpt-4o', messages: [{ role: 'system', content: system }, { role: 'user', content: 'hi' }] }),
    responseBody: body({ choices: [{ message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2 } }),
    startedAt: at, responseStartedAt: at + 5, endedAt: at + 20, outcome: 'complete', errors: [],
  });
}

function tunnel(store: CaptureStore, at: number, host: string): void {
  const id = nextId++;
  store.connectionUpdated({ id, clientAddress: '127.0.0.1', clientPort: 40000 + id, targetHost: host, targetPort: 443, mode: 'tunnel', openedAt: at });
}

describe('call feed', () => {
  let dir: string;
  let store: CaptureStore;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmc-feed-'));
    store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
  });

  after(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('prints what happens after it started; an anonymous session without the number the whole store gives it', () => {
    chat(store, T0, 'You are a helpful assistant.');
    tunnel(store, T0, 'telemetry.example.test');
    const lines: string[] = [];
    const feed = new CallFeed(store, { write: (l) => lines.push(l) });
    while (feed.update());
    assert.deepEqual(lines, [], 'history is not printed');

    // Three hours later, another conversation: the store's second anonymous session.
    chat(store, T0 + 3 * 3600_000, 'You are a different assistant.');
    tunnel(store, T0 + 3 * 3600_000, 'telemetry.example.test');
    tunnel(store, T0 + 3 * 3600_000 + 1, 'telemetry.example.test');
    while (feed.update());
    // In the order things happened: the tunnel opened before the call completed.
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d tunnel telemetry\.example\.test:443 \(not intercepted\)$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d generic gpt-4o anon:generic in 10 out 2 (\$\d\.\d{4}|-) 20ms 200$/);
    assert.ok(assembleSessions(store).sessions().some((s) => s.id === 'anon:generic:2'), '`sessions` numbers it over the whole store');

    feed.update();
    assert.equal(lines.length, 2, 'each call and host once');
  });

  test('other exchanges only when verbose', () => {
    const quiet: string[] = [];
    const verbose: string[] = [];
    const feeds = [new CallFeed(store, { write: (l) => quiet.push(l) }), new CallFeed(store, { write: (l) => verbose.push(l), verbose: true })];
    chat(store, T0 + 4 * 3600_000, 'x', 'https://llm.corp.test/api/telemetry');
    for (const feed of feeds) while (feed.update());
    assert.deepEqual(quiet, []);
    assert.equal(verbose.length, 1);
    assert.match(verbose[0]!, /^\d\d:\d\d:\d\d POST https:\/\/llm\.corp\.test\/api\/telemetry 200 http \d+B 20ms$/);
  });
});
