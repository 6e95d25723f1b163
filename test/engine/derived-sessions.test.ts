// The session files beside the store are written a piece at a time (docs/decisions.md, decision 81):
// what is read back is exactly what was assembled, a failed write leaves no temporary file and
// does not stop the next save.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveSessions } from '../../src/app/live-sessions';
import type { SessionDetail, SessionSummary } from '../../src/conversation/types';
import { DerivedSessions, type StoreMark } from '../../src/engine/derived-sessions';
import { joinedPieces, jsonPieces } from '../../src/engine/json-pieces';
import { CaptureStore } from '../../src/store';
import { writeTurns } from '../support/claude-exchange';

describe('jsonPieces', () => {
  const tricky = {
    a: [1, undefined, () => 1, Symbol('s'), null, Number.NaN, Infinity, -0],
    b: { skipped: undefined, fn: () => 1, nested: { deep: [[['x', { y: 'z' }]]] } },
    c: new Date(Date.UTC(2026, 11, 5)),
    'key "quoted"\n': 'value \u2028 \ud800 é',
    d: [],
    e: {},
    f: [{}, [], ''],
    g: [new String('boxed'), new Map([[1, 2]]), Object.assign(Object.create(null) as object, { bare: true }), { toJSON: () => 'own' }],
  };

  it('joins to JSON.stringify at every depth', () => {
    for (let depth = 0; depth <= 8; depth++) {
      assert.equal([...jsonPieces(tricky, depth)].join(''), JSON.stringify(tricky), `depth ${depth}`);
    }
    for (const leaf of [null, 0, 'text', true, [], {}, [undefined]]) assert.equal([...jsonPieces(leaf, 3)].join(''), JSON.stringify(leaf));
  });

  it('joins small pieces to at least the size asked, and keeps their order', () => {
    const pieces = Array.from({ length: 100 }, (_, i) => `p${i};`);
    const joined = [...joinedPieces(pieces, 50)];
    assert.equal(joined.join(''), pieces.join(''));
    assert.ok(joined.slice(0, -1).every((s) => s.length >= 50));
    assert.ok(joined.length > 1);
  });
});

describe('DerivedSessions files', () => {
  let dataDir: string;
  let details: SessionDetail[];
  let sessions: SessionSummary[];
  let mark: StoreMark;
  let calls: number;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-derived-'));
    const store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
    writeTurns(store, 3, 5);
    await store.flush();
    const live = new LiveSessions(store);
    while (live.update().more) { /* read every exchange */ }
    sessions = live.assembler.sessions();
    details = sessions.map((s) => live.assembler.session(s.id)!);
    calls = live.calls;
    const newest = store.listExchanges({ limit: 1 }).items[0]!;
    mark = { lastExchangeId: newest.id, lastStartedAt: newest.startedAt };
    await store.close();
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reads back each detail and the index exactly as they were saved', async () => {
    await new DerivedSessions(dataDir).save(mark, calls, sessions, details);
    const derived = new DerivedSessions(dataDir);
    for (const d of details) assert.deepEqual(await derived.detail(d.id), JSON.parse(JSON.stringify(d)));
    const index = await derived.load((id) => (id === mark.lastExchangeId ? mark.lastStartedAt : undefined));
    assert.ok(index);
    assert.equal(index.calls, calls);
    assert.deepEqual(index.sessions, JSON.parse(JSON.stringify(sessions)));
  });

  it('reads back a detail with long texts, many steps and awkward characters exactly', async () => {
    const big = structuredClone(details[1]);
    const turn = big.threads[0].turns[0];
    turn.prompt = 'ü'.repeat(700_000) + '\ud800 lone';
    turn.steps = [...turn.steps, ...Array.from({ length: 40 }, (_, i) => ({ ...turn.steps[0], text: `step ${i} `.repeat(5_000) }))];
    await new DerivedSessions(dataDir).save(mark, calls, sessions, [big]);
    assert.deepEqual(await new DerivedSessions(dataDir).detail(big.id), JSON.parse(JSON.stringify(big)));
    // Put the session's own detail back for the next test.
    await new DerivedSessions(dataDir).save(mark, calls, sessions, [details[1]]);
  });

  it('reads a session file written whole, as before decision 85', async () => {
    const dir = join(dataDir, 'derived', 'sessions');
    const skeleton = readdirSync(dir).find((n) => n.endsWith('.json.gz') && gunzipSync(readFileSync(join(dir, n))).toString('utf8').includes(details[2].id))!;
    writeFileSync(join(dir, skeleton), gzipSync(JSON.stringify(details[2])));
    assert.deepEqual(await new DerivedSessions(dataDir).detail(details[2].id), JSON.parse(JSON.stringify(details[2])));
  });

  it('a write that fails leaves no temporary file, and the next save works', async () => {
    const derived = new DerivedSessions(dataDir);
    const dir = join(dataDir, 'derived', 'sessions');
    // A directory where each session's file goes: the rename over it fails, even for root.
    const names = readdirSync(dir).filter((n) => n.endsWith('.json.gz'));
    assert.equal(names.length, details.length);
    for (const name of names) {
      rmSync(join(dir, name));
      mkdirSync(join(dir, name, 'inside'), { recursive: true });
    }
    await assert.rejects(derived.save(mark, calls, sessions, details), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
    for (const name of names) rmSync(join(dir, name), { recursive: true });
    const changed = { ...details[0], summary: { ...details[0].summary, title: 'after the failure' } };
    await derived.save(mark, calls, sessions, [changed]);
    assert.equal((await new DerivedSessions(dataDir).detail(changed.id))?.summary.title, 'after the failure');
  });
});
