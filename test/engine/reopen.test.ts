// Reopening a store of 5,000 calls: the first engine reads every exchange into sessions (saying
// how far it is) and keeps what it made in derived/; the next engine lists every session from it at
// once, before it has read a single exchange, opens a session from its file, and reads the
// exchanges only once the store changes. A derived index of another database (the data cleared
// and captured again) is not used.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineClient } from '../../src/engine/engine-client';
import type { EngineEvent } from '../../src/engine/protocol';
import { CaptureStore } from '../../src/store';
import { listedSessions, until as untilWithin } from '../support/engine-events';
import type { ExchangeRecord } from '../../src/capture/records';
import { claudeTurnExchange as exchange, seededSessionId, writeTurns } from '../support/claude-exchange';

const CALLS = 5000;
const SESSIONS = 50;
/** Reading 5,000 calls on a loaded CI machine: waits get two minutes. */
const until = <T>(what: string, probe: () => T | undefined) => untilWithin(what, probe, 120_000);

async function seed(dataDir: string, calls: number, sessions: number): Promise<void> {
  const store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
  writeTurns(store, sessions, calls / sessions);
  await store.close();
}

/** An engine showing `dataDir`'s history, and every event it sent, in order. */
async function open(dataDir: string): Promise<{ engine: EngineClient; events: EngineEvent[] }> {
  const engine = new EngineClient();
  const events: EngineEvent[] = [];
  engine.onEvent((e) => events.push(e));
  await engine.request('history.want', { dataDir });
  return { engine, events };
}

/** Waits until one session shows the call added after the first open, and checks every session is still there. */
async function untilSessionHasTheNewCall(what: string, events: EngineEvent[]): Promise<void> {
  const shown = await until(what, () => {
    const now = listedSessions(events);
    return [...now.values()].includes(CALLS / SESSIONS + 1) ? now : undefined;
  });
  assert.equal(shown.size, SESSIONS);
}

/**
 * A new data directory whose store holds `rows`, opened once by an engine: it reads every exchange
 * and, being a reader that found no index, writes derived/ once caught up (`calls` of them: an open
 * exchange has none yet).
 */
async function storeWithIndex(prefix: string, rows: ExchangeRecord[], calls = rows.length): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = await CaptureStore.open({ dataDir: dir, mode: 'writer', retention: {} });
  store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: rows[0].startedAt });
  for (const row of rows) store.exchangeUpdated(row);
  await store.close();
  const first = await open(dir);
  try {
    await until('the first reading and its index', () => ([...listedSessions(first.events).values()].reduce((a, b) => a + b, 0) === calls
      && existsSync(join(dir, 'derived', 'index.json.gz')) ? true : undefined));
  } finally {
    await first.engine.dispose();
  }
  return dir;
}

/** `calls` calls of seeded session `s`, exchange ids from `firstId` on, a second apart from `at`. */
const sessionCalls = (s: number, calls: number, firstId: number, at: number) => Array.from({ length: calls }, (_, t) => exchange(firstId + t, s, t, at + t * 1000));

/** Opens an engine on `dir`, runs `check` with it and the events it sends, then removes `dir`. */
async function reopened(dir: string, check: (engine: EngineClient, events: EngineEvent[]) => Promise<void>): Promise<void> {
  try {
    const { engine, events } = await open(dir);
    try {
      await check(engine, events);
    } finally {
      await engine.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stores `rows` as the capturing writer would. */
async function write(dir: string, ...rows: ExchangeRecord[]): Promise<void> {
  const writer = await CaptureStore.open({ dataDir: dir, mode: 'writer', retention: {} });
  for (const row of rows) writer.exchangeUpdated(row);
  await writer.close();
}

describe('reopening a large store', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-reopen-'));
  before(() => seed(dataDir, CALLS, SESSIONS));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the first open reads every exchange, says how far it is, and keeps the sessions it made', async () => {
    const { engine, events } = await open(dataDir);
    try {
      await until('the end of the reading', () => events.find((e) => e.type === 'progress' && e.done === e.total && e.total === CALLS));
      const progress = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');
      assert.ok(progress.length >= 2 && progress[0].done < CALLS, 'progress is reported while reading');
      const shown = listedSessions(events);
      assert.equal(shown.size, SESSIONS);
      assert.equal([...shown.values()].reduce((a, b) => a + b, 0), CALLS);
    } finally {
      await engine.dispose();
    }
  });

  it('the next open lists every session before reading any exchange, and opens one from its file', async () => {
    const { engine, events } = await open(dataDir);
    try {
      const first = await until('the first sessions', () => events.find((e) => e.type === 'sessions' && e.sessions.length > 0));
      const before = events.slice(0, events.indexOf(first) + 1);
      assert.ok(!before.some((e) => e.type === 'progress'), 'listed before any exchange was read');
      assert.ok(first.type === 'sessions' && first.reset);
      assert.equal(first.type === 'sessions' && first.sessions.length, SESSIONS, 'every session at once');
      assert.equal(first.type === 'sessions' && first.calls, CALLS);
      const id = first.type === 'sessions' ? first.sessions[0].id : '';
      const model = await engine.request('conversation.model', { sessionId: id });
      assert.equal(model?.threads[0].turns.length, CALLS / SESSIONS, 'the whole session, from its file');
      // While the store does not change, no exchange is read: the stored sessions are current.
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!events.some((e) => e.type === 'progress'), 'nothing read while nothing changed');
      // A new call: every stored session has been idle for long, so the engine goes on from the
      // assembly it saved and reads only the new exchange (decision 94); the call joins its session.
      const writer = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
      writer.exchangeUpdated(exchange(CALLS + 1, 0, CALLS / SESSIONS));
      await writer.close();
      await untilSessionHasTheNewCall('the new call in its session', events);
      assert.ok(!events.some((e) => e.type === 'progress'), 'the stored exchanges were not read again');
      for (const e of events) if (e.type === 'sessions' && !e.reset) for (const s of e.sessions) assert.ok(s.callCount >= CALLS / SESSIONS, `${s.id} never shows fewer calls`);
      const grown = await engine.request('conversation.model', { sessionId: seededSessionId(0) });
      assert.equal(grown?.threads[0].turns.length, CALLS / SESSIONS + 1, 'the session read back whole, with the new call');
    } finally {
      await engine.dispose();
    }
  });

  it('calls stored after the index was written (a writer killed before it saved again) are read in at the next open', async () => {
    // The index on disk is the first open's: the call the last test added is newer than it.
    const { engine, events } = await open(dataDir);
    try {
      const first = await until('the stored sessions', () => events.find((e) => e.type === 'sessions' && e.sessions.length > 0));
      assert.equal(first.type === 'sessions' && first.calls, CALLS, 'the index is shown first');
      await untilSessionHasTheNewCall('the newer call in its session, with nothing written meanwhile', events);
    } finally {
      await engine.dispose();
    }
  });

  it('an index saved while its sessions were recent is not gone on from: the exchanges behind it are read again', async () => {
    // Calls a minute old: a new call may still be linked to them by what it says (a subagent, a title).
    const recent = Date.now() - 60_000;
    const recentDir = await storeWithIndex('llmc-reopen-recent-', Array.from({ length: 40 }, (_, i) => exchange(i + 1, (i + 1) % 2, Math.floor(i / 2), recent + (i + 1) * 100)));
    await reopened(recentDir, async (_engine, events) => {
      await until('the stored sessions', () => events.find((e) => e.type === 'sessions' && e.sessions.length === 2));
      await write(recentDir, exchange(41, 0, 20, Date.now()));
      await until('the whole store read again', () => events.find((e) => e.type === 'progress' && e.done === e.total && e.total === 41));
      await until('the new call in its session', () => (listedSessions(events).get(seededSessionId(0)) === 21 ? true : undefined));
    });
  });

  it('going on from the saved assembly, the stored sessions are listed before it is made, and once (decision 99)', async () => {
    const dir = await storeWithIndex('llmc-reopen-first-', [...sessionCalls(0, 30, 1, Date.now() - 7_200_000), ...sessionCalls(1, 30, 31, Date.now() - 60_000)]);
    await reopened(dir, async (_engine, events) => {
      const plan = await until('the plan', () => events.find((e) => e.type === 'log' && /went on from the saved assembly/.test(e.message)));
      // A listing sent with the plan's log would arrive right after it.
      await new Promise((r) => setTimeout(r, 300));
      const listings = events.filter((e) => e.type === 'sessions' && e.sessions.length > 0);
      assert.equal(listings.length, 1, 'listed once: the assembly gone on from shows the same sessions');
      assert.ok(events.indexOf(listings[0]!) < events.indexOf(plan), 'listed before the assembly was gone on from');
      assert.deepEqual(Object.fromEntries(listedSessions(events)), { [seededSessionId(0)]: 30, [seededSessionId(1)]: 30 });
    });
  });

  it('only sessions active in the last 35 minutes are read again, from their first exchange; the others are taken up set aside', async () => {
    const dir = await storeWithIndex('llmc-reopen-partial-', [...sessionCalls(0, 30, 1, Date.now() - 7_200_000), ...sessionCalls(1, 30, 31, Date.now() - 60_000)]);
    await reopened(dir, async (engine, events) => {
      await until('the plan', () => events.find((e) => e.type === 'log' && /1 sessions set aside \(30 calls\); 1 recent sessions to read again from exchange 31 /.test(e.message)));
      // As before decision 94, nothing is read while the store does not change.
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!events.some((e) => e.type === 'progress'), 'nothing read while nothing changed');
      await write(dir, exchange(61, 1, 30, Date.now()), exchange(62, 0, 30, Date.now()));
      await until('both sessions with their new call', () => ([...listedSessions(events).values()].sort().join() === '31,31' ? true : undefined));
      for (const s of [0, 1]) {
        const model = await engine.request('conversation.model', { sessionId: seededSessionId(s) });
        assert.equal(model?.threads[0].turns.length, 31, `session ${s} whole, with its new call`);
      }
    });
  });

  it('an index saved while an exchange was open is gone on from, reading again from that exchange (decision 96)', async () => {
    const hours = (n: number) => Date.now() - n * 3_600_000;
    // Exchange 41, session 1's next call, is still streaming when the index is saved.
    const streaming = { ...exchange(41, 1, 20, hours(1)) };
    for (const k of ['statusCode', 'responseHeaders', 'responseBody', 'responseStartedAt', 'endedAt', 'outcome'] as const) delete streaming[k];
    const dir = await storeWithIndex('llmc-reopen-open-', [...sessionCalls(0, 20, 1, hours(3)), ...sessionCalls(1, 20, 21, hours(2)), streaming], 40);
    await reopened(dir, async (engine, events) => {
      await until('the plan', () => events.find((e) => e.type === 'log' && /went on from the saved assembly: 2 sessions set aside \(40 calls\)/.test(e.message)));
      await write(dir, exchange(41, 1, 20, hours(1)));
      await until('session 1 with the call that was streaming', () => (listedSessions(events).get(seededSessionId(1)) === 21 ? true : undefined));
      assert.equal(listedSessions(events).get(seededSessionId(0)), 20);
      assert.ok(!events.some((e) => e.type === 'progress'), 'only the open exchange was read');
      const model = await engine.request('conversation.model', { sessionId: seededSessionId(1) });
      assert.equal(model?.threads[0].turns.length, 21, 'the session read back whole, with that call');
    });
  });

  it('anonymous sessions read again keep their numbers (decision 96)', async () => {
    const hours = (n: number) => Date.now() - n * 3_600_000;
    // Calls without a session id: each session is made from its first call and numbered then.
    const anonymous = (row: ExchangeRecord): ExchangeRecord => ({ ...row, requestHeaders: row.requestHeaders.filter(([name]) => name !== 'x-claude-code-session-id') });
    const recentCalls = sessionCalls(2, 10, 21, Date.now() - 120_000).map(anonymous);
    const dir = await storeWithIndex('llmc-reopen-anonymous-', [...sessionCalls(0, 10, 1, hours(3)).map(anonymous), ...sessionCalls(1, 10, 11, hours(2)), ...recentCalls]);
    await reopened(dir, async (_engine, events) => {
      await until('the plan', () => events.find((e) => e.type === 'log' && /2 sessions set aside \(20 calls\); 1 recent sessions to read again from exchange 21 /.test(e.message)));
      await write(dir, anonymous(exchange(31, 2, 10, Date.now())));
      await until('the recent session with its new call', () => ([...listedSessions(events).values()].includes(11) ? true : undefined));
      assert.deepEqual(Object.fromEntries(listedSessions(events)), { 'anon:claude-code:1': 10, [seededSessionId(1)]: 10, 'anon:claude-code:2': 11 });
    });
  });

  it('going on from the saved assembly, a session whose calls retention has deleted since is not listed', async () => {
    const hour = 3_600_000;
    // Session 0 ten days ago, session 1 an hour ago: both idle for longer than any linking window.
    const dir = await storeWithIndex('llmc-reopen-retention-', [...sessionCalls(0, 10, 1, Date.now() - 240 * hour), ...sessionCalls(1, 10, 11, Date.now() - hour)]);
    const writer = await CaptureStore.open({ dataDir: dir, mode: 'writer', retention: { maxAgeDays: 5 } });
    const deleted = writer.applyRetention().exchangesDeleted;
    writer.exchangeUpdated(exchange(21, 1, 10, Date.now()));
    await writer.close();
    await reopened(dir, async (_engine, events) => {
      assert.equal(deleted, 10);
      await until('session 1 with its new call', () => (listedSessions(events).get(seededSessionId(1)) === 11 ? true : undefined));
      assert.deepEqual([...listedSessions(events).keys()], [seededSessionId(1)], 'the deleted session is not listed');
      assert.ok(!events.some((e) => e.type === 'progress'), 'nothing but the new exchange was read');
    });
  });

  it('a derived index of another database is not used', async () => {
    // The store's files go (segments are capture.sqlite.* files too); derived/ stays, made from the old one.
    for (const name of readdirSync(dataDir)) if (name.startsWith('capture.')) rmSync(join(dataDir, name), { force: true });
    assert.ok(existsSync(join(dataDir, 'derived', 'index.json.gz')));
    await seed(dataDir, 20, 2);
    const { engine, events } = await open(dataDir);
    try {
      await until('the sessions of the new database', () => (listedSessions(events).size === 2 ? true : undefined));
      assert.ok(!events.some((e) => e.type === 'sessions' && e.sessions.length > 2), 'the old index was not shown');
    } finally {
      await engine.dispose();
    }
  });
});
