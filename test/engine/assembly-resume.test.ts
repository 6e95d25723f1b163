// Which part of a saved assembly a reopened engine goes on from (docs/decisions.md, decision 94):
// idle sessions set aside, the recent ones read again from their first exchange, together with any
// session that has a call from there on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ColdSessionRecord } from '../../src/conversation/assembler';
import type { SessionSummary } from '../../src/conversation/types';
import { planResume } from '../../src/engine/assembly-resume';
import type { LoadedIndex } from '../../src/engine/derived-sessions';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const IDLE_SINCE = NOW - 35 * 60_000;
const OLD = NOW - 3_600_000;
const RECENT = NOW - 60_000;

interface Spec { id: string; exchanges: number[]; endedAt: number; anonymous?: boolean; mergedIds?: string[] }

/** An index of these sessions (each call one exchange), saved after the newest exchange. */
function index(specs: Spec[], aliases: [string, string][] = []): LoadedIndex {
  const last = specs.flatMap((s) => s.exchanges).reduce((a, b) => Math.max(a, b), 0);
  const records: ColdSessionRecord[] = specs.map((s) => ({
    id: s.id, callIds: s.exchanges.map(String), idSource: 'wire', mergedIds: s.mergedIds ?? [], anonymous: s.anonymous ?? false,
  }));
  const sessions = specs.map((s) => ({ id: s.id, callCount: s.exchanges.length, endedAt: s.endedAt }) as SessionSummary);
  return {
    sessions, calls: specs.reduce((n, s) => n + s.exchanges.length, 0), lastExchangeId: last,
    resume: { afterExchangeId: last, assembly: { sessions: records, aliases, anonymousCount: [['claude-code', 1]] } },
  };
}

const kept = () => true;
const ids = (list: { id: string }[]) => list.map((s) => s.id);

describe('planning a reopened engine\'s resumed assembly', () => {
  test('every session idle: all set aside, only newer exchanges read', () => {
    const plan = planResume(index([{ id: 'a', exchanges: [1, 3], endedAt: OLD }, { id: 'b', exchanges: [2, 4], endedAt: OLD }]), IDLE_SINCE, kept);
    assert.equal(plan?.afterExchangeId, 4);
    assert.deepEqual(ids(plan!.summaries), ['a', 'b']);
    assert.deepEqual(plan!.reread, []);
    assert.equal(plan!.calls, 4);
  });

  test('a recent session after the idle ones is read again from its first exchange', () => {
    const plan = planResume(index([
      { id: 'a', exchanges: [1, 2, 3], endedAt: OLD }, { id: 'b', exchanges: [4, 5, 6], endedAt: OLD }, { id: 'c', exchanges: [7, 8, 9], endedAt: RECENT },
    ]), IDLE_SINCE, kept);
    assert.equal(plan?.afterExchangeId, 6);
    assert.deepEqual(ids(plan!.summaries), ['a', 'b']);
    assert.deepEqual(ids(plan!.reread), ['c']);
    assert.deepEqual(ids(plan!.assembly.sessions), ['a', 'b']);
    assert.equal(plan!.calls, 6);
  });

  test('a session with a call after the cut is read again whole, and so on back', () => {
    // c is recent; b has a call after c's first, so b is read from its first (2); a ends before that.
    const plan = planResume(index([
      { id: 'a', exchanges: [1], endedAt: OLD }, { id: 'b', exchanges: [2, 8], endedAt: OLD }, { id: 'c', exchanges: [7, 9], endedAt: RECENT },
    ]), IDLE_SINCE, kept);
    assert.equal(plan?.afterExchangeId, 1);
    assert.deepEqual(ids(plan!.summaries), ['a']);
    assert.deepEqual(ids(plan!.reread), ['b', 'c']);
  });

  test('an exchange open at the save is read again, with every session it has a call in (decision 96)', () => {
    // b's WebSocket (exchange 5) was open: calls 5 and 6 came from it so far. c has none from it.
    const saved = index([
      { id: 'a', exchanges: [1, 2, 3], endedAt: OLD }, { id: 'b', exchanges: [4, 5, 5, 7], endedAt: OLD }, { id: 'c', exchanges: [6], endedAt: OLD },
    ]);
    const plan = planResume({ ...saved, resume: { ...saved.resume!, open: [5] } }, IDLE_SINCE, kept);
    assert.equal(plan?.afterExchangeId, 3);
    assert.deepEqual(ids(plan!.summaries), ['a']);
    assert.deepEqual(ids(plan!.reread), ['b', 'c']);
    // An open exchange after every call (an HTTP request still streaming): nothing else is read again.
    const streaming = planResume({ ...saved, resume: { ...saved.resume!, afterExchangeId: 8, open: [8] } }, IDLE_SINCE, kept);
    assert.equal(streaming?.afterExchangeId, 7);
    assert.deepEqual(streaming!.reread, []);
  });

  test('when that reaches back to the first exchange, nothing is taken up', () => {
    const interleaved = index([{ id: 'a', exchanges: [1, 3, 5], endedAt: OLD }, { id: 'b', exchanges: [2, 4, 6], endedAt: RECENT }]);
    assert.equal(planResume(interleaved, IDLE_SINCE, kept), undefined);
  });

  test('anonymous sessions read again are numbered again from where the kept ones end (decision 96)', () => {
    const count = (specs: Spec[], aliases: [string, string][] = [], made = 3) => {
      const saved = index(specs, aliases);
      const plan = planResume({ ...saved, resume: { ...saved.resume!, assembly: { ...saved.resume!.assembly, anonymousCount: [['claude-code', made], ['codex', 1]] } } }, IDLE_SINCE, kept);
      return plan && Object.fromEntries(plan.assembly.anonymousCount);
    };
    // 1 is kept; 2 (merged into c) and 3 are read again, so they are made again as 2 and 3.
    assert.deepEqual(count([
      { id: 'anon:claude-code:1', exchanges: [1, 2], endedAt: OLD, anonymous: true },
      { id: 'c', exchanges: [3, 4], endedAt: RECENT, mergedIds: ['anon:claude-code:2'] },
      { id: 'anon:claude-code:3', exchanges: [5, 6], endedAt: RECENT, anonymous: true },
    ], [['anon:claude-code:2', 'c']]), { 'claude-code': 1, codex: 1 });
    // One that was known only by an alias into a session read again counts too.
    assert.deepEqual(count([
      { id: 'a', exchanges: [1, 2], endedAt: OLD }, { id: 'c', exchanges: [3, 4], endedAt: RECENT, anonymous: true },
    ], [['anon:claude-code:3', 'c']]), { 'claude-code': 2, codex: 1 });
    // An anonymous session that cannot be told by any id, or more made again than were numbered: nothing is taken up.
    assert.equal(count([{ id: 'a', exchanges: [1, 2], endedAt: OLD }, { id: 'c', exchanges: [3, 4], endedAt: RECENT, anonymous: true }]), undefined);
    assert.equal(count([{ id: 'a', exchanges: [1, 2], endedAt: OLD }, { id: 'anon:claude-code:1', exchanges: [3, 4], endedAt: RECENT, anonymous: true }], [], 0), undefined);
  });

  test('merges into a session read again are left to be made again; those into one set aside stay', () => {
    const plan = planResume(index(
      [{ id: 'a', exchanges: [1, 2], endedAt: OLD }, { id: 'c', exchanges: [3, 4], endedAt: RECENT }],
      [['a-child', 'a'], ['c-child', 'c'], ['c-grandchild', 'c-child']],
    ), IDLE_SINCE, kept);
    assert.deepEqual(plan?.assembly.aliases, [['a-child', 'a']]);
  });

  test('a session whose newest exchange retention deleted is left out', () => {
    const plan = planResume(index([{ id: 'a', exchanges: [1, 2], endedAt: OLD }, { id: 'b', exchanges: [3, 4], endedAt: OLD }]), IDLE_SINCE, (id) => id > 2);
    assert.deepEqual(ids(plan!.summaries), ['b']);
    assert.deepEqual(ids(plan!.assembly.sessions), ['b']);
    assert.equal(plan!.gone, 1);
    assert.equal(plan!.calls, 2);
  });

  test('a session of half a million calls is planned like any other', () => {
    const huge = Array.from({ length: 500_000 }, (_, i) => i + 1);
    const plan = planResume(index([{ id: 'a', exchanges: huge, endedAt: OLD }, { id: 'b', exchanges: [500_001], endedAt: RECENT }]), IDLE_SINCE, kept);
    assert.equal(plan?.afterExchangeId, 500_000);
    assert.deepEqual(ids(plan!.reread), ['b']);
  });

  test('an index without a saved assembly gives nothing to take up', () => {
    const { resume: _, ...plain } = index([{ id: 'a', exchanges: [1], endedAt: OLD }]);
    assert.equal(planResume(plain, IDLE_SINCE, kept), undefined);
  });
});
