// LiveSessions follows a store that is still being written: a call is assembled once, when its
// exchange has ended; while it streams, its session is marked as streaming; later updates read
// only what is new.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { activity } from '../../src/app/activity';
import { clearCaptureFiles, hasCaptureFiles, isCaptureFile } from '../../src/app/capture-files';
import { bypassesProxy, isCodexDaemon } from '../../src/app/codex-daemon';
import { LiveSessions } from '../../src/app/live-sessions';
import { assembleSessions, loadLlmCalls } from '../../src/app/session-index';
import type { ExchangeRecord, StoredBody } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { allModelFixtures } from '../llm/fixture-loader';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const SESSION = '5b0c2c36-7a36-4d5e-9a39-1f2f0e0b9a11';

function body(value: unknown): StoredBody {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

function messagesExchange(id: number, prompt: string, answer: string, ended: boolean): ExchangeRecord {
  const startedAt = T0 + id * 10_000;
  return {
    id, connectionId: 1, method: 'POST', url: 'https://api.anthropic.com/v1/messages', httpVersion: '1.1', kind: 'http',
    requestHeaders: [['content-type', 'application/json'], ['x-claude-code-session-id', SESSION], ['user-agent', 'claude-cli/2.0.0 (external, cli)']],
    requestBody: body({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'You are Claude Code.', messages: [{ role: 'user', content: prompt }] }),
    startedAt,
    ...(ended ? {
      statusCode: 200,
      responseHeaders: [['content-type', 'application/json']] as [string, string][],
      responseBody: body({ id: `msg_${id}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: answer }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } }),
      responseStartedAt: startedAt + 100, endedAt: startedAt + 500, outcome: 'complete' as const,
    } : {}),
    errors: [],
  };
}

describe('live sessions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-live-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('assembles ended exchanges once, marks streaming ones, reads only what is new', async () => {
    const store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
    try {
      store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, label: 'term', targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: T0 });
      const live = new LiveSessions(store);
      assert.deepEqual(live.update(), { changed: [], retired: [], streamingChanged: false, added: 0, addedCalls: [], more: false, pendingChanged: [] });

      store.exchangeUpdated(messagesExchange(1, 'Hello there', 'Hi!', false));
      let u = live.update();
      assert.equal(u.added, 0, 'nothing is assembled while the exchange is open');
      assert.equal(u.streamingChanged, true);
      assert.deepEqual([...live.streaming()], [SESSION]);

      store.exchangeUpdated(messagesExchange(1, 'Hello there', 'Hi!', true));
      u = live.update();
      assert.equal(u.added, 1);
      assert.deepEqual(u.addedCalls.map((a) => [a.call.exchangeId, a.sessionId]), [[1, SESSION]]);
      assert.deepEqual(u.changed, [SESSION]);
      assert.equal(live.streaming().size, 0);
      assert.equal(live.assembler.sessions()[0].title.length > 0, true);

      assert.equal(live.update().added, 0, 'an ended exchange is not read again');

      store.exchangeUpdated(messagesExchange(2, 'Second', 'Two', true));
      store.exchangeUpdated(messagesExchange(3, 'Third', 'Three', true));
      u = live.update(1);
      assert.equal(u.added, 1);
      assert.equal(u.more, true, 'the budget leaves one for the next slice');
      u = live.update(1);
      assert.equal(u.added, 1);
      assert.equal(u.more, false);
      assert.equal(live.calls, 3);

      const log = activity(store, 10);
      assert.equal(log.length, 3);
      assert.equal(log[0].key.startsWith('x'), true);
      assert.equal(log[0].label, 'term');
    } finally {
      await store.close();
    }
    assert.equal(await hasCaptureFiles(dir), true);
    // The sessions derived from the exchanges go with them (a cleared store must not show them again).
    mkdirSync(join(dir, 'derived', 'sessions'), { recursive: true });
    writeFileSync(join(dir, 'derived', 'index.json.gz'), 'x');
    writeFileSync(join(dir, 'ca.pem'), 'kept');
    const removed = await clearCaptureFiles(dir);
    assert.ok(removed.length > 0 && removed.filter((n) => n !== 'derived').every(isCaptureFile));
    assert.ok(removed.includes('derived'));
    assert.equal(existsSync(join(dir, 'derived')), false);
    assert.equal(existsSync(join(dir, 'ca.pem')), true, 'the CA stays');
    assert.equal(await hasCaptureFiles(dir), false);
  });

  test('capture file names and the Codex daemon check', () => {
    assert.equal(isCaptureFile('capture.sqlite'), true);
    assert.equal(isCaptureFile('capture.journal.tmp-1'), true);
    assert.equal(isCaptureFile('ca.pem'), false);
    assert.equal(isCodexDaemon(['/usr/bin/node', '/usr/lib/node_modules/@openai/codex/bin/codex.js', 'app-server', '--managed-daemon', ''].join('\0')), true);
    assert.equal(isCodexDaemon(['codex', 'exec', 'hi'].join('\0')), false);
    assert.equal(bypassesProxy({ pid: 1, httpsProxy: 'http://term:tok@127.0.0.1:8080' }, 'http://127.0.0.1:8080', T0), false);
    assert.equal(bypassesProxy({ pid: 1, httpsProxy: '' }, 'http://127.0.0.1:8080', T0), true);
    assert.equal(bypassesProxy({ pid: 1, startedAt: T0 - 1 }, 'http://127.0.0.1:8080', T0), true);
    assert.equal(bypassesProxy({ pid: 1, startedAt: T0 + 1 }, 'http://127.0.0.1:8080', T0), false);
  });
});

describe('live sessions against a whole-store assembly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-capture-live-fixtures-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reading the captured client fixtures in slices gives the same sessions as assembleSessions', async () => {
    const store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
    try {
      const connections = new Set<number>();
      for (const f of allModelFixtures()) {
        const { exchange: x, sseEvents, wsMessages } = f.load();
        if (!connections.has(x.connectionId)) {
          connections.add(x.connectionId);
          store.connectionUpdated({ id: x.connectionId, clientAddress: '127.0.0.1', clientPort: 1, targetHost: new URL(x.url).hostname, targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: x.startedAt });
        }
        store.exchangeUpdated(x);
        if (sseEvents) store.sseEvents(x.id, sseEvents);
        for (const m of wsMessages ?? []) store.wsMessage(m);
      }
      const live = new LiveSessions(store);
      while (live.update(3).more) { /* a slice at a time */ }
      const whole = assembleSessions(store);
      const ids = (xs: { id: string }[]) => xs.map((s) => s.id).sort();
      assert.ok(whole.sessions().length > 0);
      assert.deepEqual(ids(live.assembler.sessions()), ids(whole.sessions()));
      assert.equal(live.calls, loadLlmCalls(store).length);
    } finally {
      await store.close();
    }
  });

  test('a slice past its deadline stops after one exchange; new summaries are read a page ahead, not all', async () => {
    const big = mkdtempSync(join(tmpdir(), 'llm-capture-live-pages-'));
    const store = await CaptureStore.open({ dataDir: big, mode: 'writer' });
    try {
      store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: T0 });
      const total = 450;
      for (let id = 1; id <= total; id++) store.exchangeUpdated(messagesExchange(id, `Prompt ${id}`, `Answer ${id}`, true));
      // Counts the summaries the follower asks the store for (the real store answers).
      let fetched = 0;
      const listAfter = store.listExchangesAfter.bind(store);
      store.listExchangesAfter = (afterId, limit) => {
        const page = listAfter(afterId, limit);
        fetched += page.items.length;
        return page;
      };
      const live = new LiveSessions(store);
      let u = live.update(25, 0);
      assert.equal(u.added, 1, 'a deadline already past still reads one exchange');
      assert.equal(u.more, true);
      assert.equal(live.queued, total - 1, 'what is not fetched yet is counted');
      assert.ok(fetched <= 200, `a page of summaries read ahead, not ${fetched}`);
      let passes = 1;
      while (u.more) {
        u = live.update(25, 0);
        assert.equal(u.added, 1);
        assert.ok(fetched - live.read <= 200 + 25, `${fetched - live.read} summaries held ahead`);
        passes++;
      }
      assert.equal(passes, total);
      assert.equal(fetched, total, 'each summary is read once');
      assert.equal(live.calls, total);
      assert.deepEqual(live.resumePoint(), { afterExchangeId: total, open: [] });
      assert.deepEqual(live.assembler.sessions().map((x) => [x.id, x.callCount]), assembleSessions(store).sessions().map((x) => [x.id, x.callCount]));
    } finally {
      await store.close();
      rmSync(big, { recursive: true, force: true });
    }
  });
});
