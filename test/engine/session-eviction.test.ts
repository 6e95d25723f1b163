// The writer's follower sets idle sessions aside once their files are saved (docs/decisions.md,
// decision 66): they stay listed, open from their files (or from the store when a file is
// missing), and a new call on one of them reads its calls back from the store, so it gets every
// call it had plus the new one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineEvent } from '../../src/engine/protocol';
import { SessionFollower } from '../../src/engine/session-follower';
import { CaptureStore } from '../../src/store';
import { listedSessions, until } from '../support/engine-events';
// Seeded days before now: every session is idle from the start.
import { claudeTurnExchange as exchange, seededSessionId as sessionId, writeTurns } from '../support/claude-exchange';

const SESSIONS = 3;
const TURNS = 4;
/** The answers' texts in a session detail, in order. */
function answers(detail: unknown): string[] {
  return [...JSON.stringify(detail).matchAll(/answer \d+\.\d+/g)].map((m) => m[0]).filter((t, i, all) => all.indexOf(t) === i);
}

describe("idle sessions set aside from the writer's memory", () => {
  let dataDir: string;
  let store: CaptureStore;
  const events: EngineEvent[] = [];
  const follower = new SessionFollower((e) => events.push(e), () => undefined);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-evict-'));
    store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
    writeTurns(store, SESSIONS, TURNS);
    await store.flush();
    follower.use(store, { dataDir, keep: false, persist: true });
  });

  after(async () => {
    follower.detach();
    await follower.settle();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets every idle session aside once saved, and keeps listing it', async () => {
    await until('the sessions to be set aside', () => follower.sessions?.assembler.coldCount === SESSIONS);
    assert.deepEqual(follower.sessions!.assembler.sessionIds(), []);
    assert.deepEqual([...listedSessions(events)].sort(), [0, 1, 2].map((s) => [sessionId(s), TURNS]));
    assert.equal(follower.sessions!.assembler.sessions().length, SESSIONS);
  });

  it('opens a set-aside session from its file', async () => {
    const detail = await follower.detail(sessionId(1));
    assert.equal(detail?.summary.callCount, TURNS);
    assert.deepEqual(answers(detail), ['answer 1.0', 'answer 1.1', 'answer 1.2', 'answer 1.3']);
    assert.equal(follower.sessions!.assembler.isCold(sessionId(1)), true, 'served from the file, not read back');
  });

  it('a new call on a set-aside session reads its calls back and adds the new one', async () => {
    store.exchangeUpdated(exchange(100, 0, TURNS, Date.now()));
    await until('session 0 to list the new call', () => listedSessions(events).get(sessionId(0)) === TURNS + 1);
    const assembler = follower.sessions!.assembler;
    assert.equal(assembler.isCold(sessionId(0)), false);
    assert.deepEqual(answers(await follower.detail(sessionId(0))), ['answer 0.0', 'answer 0.1', 'answer 0.2', 'answer 0.3', 'answer 0.4']);
    // The others stay set aside and listed.
    assert.equal(assembler.isCold(sessionId(2)), true);
    assert.equal(listedSessions(events).get(sessionId(2)), TURNS);
  });

  it('a set-aside session whose file is gone is read back from the store', async () => {
    rmSync(join(dataDir, 'derived', 'sessions'), { recursive: true, force: true });
    const detail = await follower.detail(sessionId(2));
    assert.deepEqual(answers(detail), ['answer 2.0', 'answer 2.1', 'answer 2.2', 'answer 2.3']);
  });
});

describe("idle sessions set aside from a reader's memory", () => {
  let dataDir: string;
  let store: CaptureStore;
  let reader: CaptureStore;
  const writer = new SessionFollower(() => undefined, () => undefined);
  const readerEvents: EngineEvent[] = [];
  const follower = new SessionFollower((e) => readerEvents.push(e), () => undefined);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-evict-reader-'));
    store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
    writeTurns(store, SESSIONS, TURNS);
    await store.flush();
    writer.use(store, { dataDir, keep: false, persist: true });
    await until('the writer to save and set aside its sessions', () => writer.sessions?.assembler.coldCount === SESSIONS);
  });

  after(async () => {
    follower.detach();
    writer.detach();
    await follower.settle();
    await writer.settle();
    await reader?.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets aside the idle sessions whose saved files hold as many calls, once it has read the calls', async () => {
    reader = await CaptureStore.open({ dataDir, mode: 'reader' });
    follower.use(reader, { dataDir, keep: false, persist: false });
    await until('the stored sessions', () => listedSessions(readerEvents).size === SESSIONS);
    // The writer saves no more (as if killed): session 1's file misses its next call, dated long ago.
    writer.detach();
    await writer.settle();
    store.exchangeUpdated(exchange(101, 1, TURNS));
    // A new call: the reader now reads every exchange into sessions.
    store.exchangeUpdated(exchange(102, 0, TURNS, Date.now()));
    await store.flush();
    await until('the new call in the reader', () => listedSessions(readerEvents).get(sessionId(0)) === TURNS + 1);
    const assembler = follower.sessions!.assembler;
    await until('session 2 set aside', () => assembler.isCold(sessionId(2)));
    assert.equal(assembler.isCold(sessionId(0)), false, 'the session with the new call stays: it is not idle');
    assert.equal(assembler.isCold(sessionId(1)), false, 'the session whose file misses a call stays');
    assert.equal((await follower.detail(sessionId(1)))?.summary.callCount, TURNS + 1);
    assert.deepEqual(answers(await follower.detail(sessionId(2))), ['answer 2.0', 'answer 2.1', 'answer 2.2', 'answer 2.3']);
    assert.equal(listedSessions(readerEvents).get(sessionId(2)), TURNS);
  });
});
