// The engine's spill file for the assembly's long texts (docs/decisions.md, decision 83): every
// text reads back exactly, the file is out of the directory while open and gone once closed, a
// full disk keeps texts in memory, once most of the file is texts nothing reads the rest moves to a
// new file and the old one is closed (decision 87), and an assembly over a real store gives the
// same views and session files with its texts spilled.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LiveSessions } from '../../src/app/live-sessions';
import { DerivedSessions } from '../../src/engine/derived-sessions';
import { FileTextSpill } from '../../src/engine/file-text-spill';
import { CaptureStore } from '../../src/store';
import { writeTurns } from '../support/claude-exchange';
import { until } from '../support/engine-events';
import { openFilesIn } from '../support/open-files';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects what nothing reaches, and lets the FinalizationRegistry's callbacks run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A distinct text of `chars` characters (one of them two bytes in UTF-8). */
const text = (i: number, chars = 10_000) => `${i} é ${'abcdefgh'.repeat(chars / 8)}`.slice(0, chars);
const TEXT_BYTES = 10_001;

/** Spills texts `from` … `to - 1`; returns the readers of every `keepEvery`th (the others are dropped here). */
function spillTexts(spill: FileTextSpill, from: number, to: number, keepEvery: number, kept = new Map<number, () => string>()): Map<number, () => string> {
  for (let i = from; i < to; i++) {
    const read = spill.put(text(i))!;
    if (i % keepEvery === 0) kept.set(i, read);
  }
  return kept;
}

describe('FileTextSpill', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmc-spill-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back every text exactly: multi-byte, pairs across a write\'s slice, lone surrogates, larger than its buffers', () => {
    const spill = FileTextSpill.open(dir)!;
    const texts = [
      '',
      'plain ascii '.repeat(400),
      'é ü — ✓ '.repeat(3000),
      // 65,535 units, then pairs: one pair straddles the 64 Ki-unit slice boundary.
      `${'a'.repeat(65_535)}${'😀'.repeat(40_000)}`,
      // JSON can carry lone surrogates; UTF-8 cannot.
      `lone \ud800 high, lone \udfff low, ${'x'.repeat(70_000)} \ud83d`,
      'z'.repeat(1_000_000),
    ];
    const readers = texts.map((t) => spill.put(t)!);
    // Read back in another order, twice, each one interleaved with new writes.
    for (const i of [5, 3, 0, 4, 1, 2, 3]) {
      assert.equal(readers[i]!(), texts[i], `text ${i}`);
      spill.put('more text written between reads');
    }
    assert.equal(spill.stats.texts, texts.length + 7);
    spill.close();
  });

  it('is out of the directory while open, and cannot be read once closed', () => {
    const spill = FileTextSpill.open(dir)!;
    const read = spill.put('kept outside memory '.repeat(200))!;
    assert.deepEqual(readdirSync(dir), [], 'removed from the directory as soon as it is open');
    assert.match(read(), /^kept outside memory/);
    spill.close();
    assert.throws(read, /spill file is closed/);
    assert.equal(spill.put('after close'), undefined, 'after close, texts stay in memory');
  });

  it('on a full disk keeps texts in memory and says so once', { skip: !existsSync('/dev/full') }, () => {
    const logged: string[] = [];
    const spill = new FileTextSpill(openSync('/dev/full', 'r+'), { log: (m) => logged.push(m) });
    assert.equal(spill.put('x'.repeat(5000)), undefined);
    assert.equal(spill.put('y'.repeat(5000)), undefined);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /stay in memory from now on: the spill file could not be written \(ENOSPC/);
    spill.close();
  });

  it('compacts: once at most half the file is texts something reads, those move to a new file and the old one is closed', async () => {
    const spill = FileTextSpill.open(dir, { compactAtBytes: 1_000_000 })!;
    // 200 texts of 10 KB; a reader kept for every fifth, the rest dropped as a set-aside session's are.
    const kept = spillTexts(spill, 0, 200, 5);
    assert.equal(spill.stats.compactions, 0, 'all readable so far: nothing to compact');
    await collect();
    assert.equal(spill.stats.liveBytes, 40 * TEXT_BYTES, 'only the kept readers\' texts count as live');
    // The next text finds the file mostly dead.
    kept.set(200, spill.put(text(200))!);
    await until('the compaction', () => spill.stats.compactions === 1);
    assert.equal(spill.stats.bytes, 41 * TEXT_BYTES, 'the file holds just the texts still read');
    assert.equal(openFilesIn(dir).length, 1, `the old file is closed: ${openFilesIn(dir).join(', ')}`);
    for (const [i, read] of kept) assert.equal(read(), text(i), `text ${i} after the compaction`);
    kept.set(201, spill.put(text(201))!);
    assert.equal(kept.get(201)!(), text(201));
    spill.close();
    assert.deepEqual(openFilesIn(dir), []);
  });

  it('reads and writes right while a compaction is half done', async () => {
    const spill = FileTextSpill.open(dir, { compactAtBytes: 500_000, compactStepBytes: 30_000 })!;
    const kept = spillTexts(spill, 0, 100, 3);
    await collect();
    // Each step moves three texts; between steps, every kept text reads back and new ones go in.
    kept.set(100, spill.put(text(100))!);
    let steps = 0;
    for (let i = 101; spill.stats.compactions === 0; i++, steps++) {
      for (const [j, read] of kept) assert.equal(read(), text(j), `text ${j} during the compaction`);
      kept.set(i, spill.put(text(i))!);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.ok(steps > 3, `the compaction took ${steps} turns`);
    for (const [j, read] of kept) assert.equal(read(), text(j), `text ${j} after the compaction`);
    spill.close();
  });

  it('compacting onto a full disk keeps every text readable, keeps new texts in memory and says so once', { skip: !existsSync('/dev/full') }, async () => {
    const logged: string[] = [];
    const spill = FileTextSpill.open(dir, { compactAtBytes: 200_000, nextFile: () => ({ fd: openSync('/dev/full', 'r+') }), log: (m) => logged.push(m) })!;
    const kept = spillTexts(spill, 0, 40, 4);
    await collect();
    kept.set(40, spill.put(text(40))!);
    await until('the failed compaction', () => logged.length > 0);
    assert.match(logged[0]!, /stay in memory from now on: the spill file could not be compacted \(ENOSPC/);
    for (const [i, read] of kept) assert.equal(read(), text(i), `text ${i} after the failure`);
    assert.equal(spill.put(text(41)), undefined, 'later texts stay in memory');
    assert.equal(logged.length, 1);
    spill.close();
  });

  it('gives no spill, and says why, where no file can be made', () => {
    const logged: string[] = [];
    assert.equal(FileTextSpill.open(join(dir, 'missing', 'deeper'), { log: (m) => logged.push(m) }), undefined);
    assert.match(logged[0]!, /stay in memory: no spill file in .*missing/);
  });
});

describe('an assembly over a real store with its texts spilled', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-spill-store-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('gives the same sessions and views, and writes the same session files', async () => {
    const store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
    try {
      writeTurns(store, 3, 6);
      await store.flush();
      const spill = FileTextSpill.open(dataDir, { minChars: 1 })!;
      const spilled = new LiveSessions(store, undefined, 0, { spill });
      const held = new LiveSessions(store);
      while (spilled.update(4).more) { /* a slice at a time, as the engine reads */ }
      while (held.update().more) { /* all at once */ }
      assert.ok(spill.stats.texts > 0);
      const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
      const sessions = held.assembler.sessions();
      assert.deepEqual(json(spilled.assembler.sessions()), json(sessions));
      const details = sessions.map((s) => spilled.assembler.session(s.id)!);
      for (const d of details) assert.deepEqual(json(d), json(held.assembler.session(d.id)));
      // The session files are written from the spilled views, their texts read back as they go.
      const newest = store.listExchanges({ limit: 1 }).items[0]!;
      await new DerivedSessions(dataDir).save({ lastExchangeId: newest.id, lastStartedAt: newest.startedAt }, spilled.calls, sessions, details);
      const derived = new DerivedSessions(dataDir);
      for (const d of details) assert.deepEqual(await derived.detail(d.id), json(held.assembler.session(d.id)));
      // And a view sent to the host (structured clone, as postMessage does) carries the texts.
      assert.deepEqual(json(structuredClone(details[0])), json(held.assembler.session(details[0]!.id)));
      spill.close();
    } finally {
      await store.close();
    }
  });
});
