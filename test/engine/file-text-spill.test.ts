// The engine's spill file for the assembly's long texts (docs/decisions.md, decision 83): every
// text reads back exactly, the file is out of the directory while open and gone once closed, a
// full disk keeps texts in memory, and an assembly over a real store gives the same views and
// session files with its texts spilled.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveSessions } from '../../src/app/live-sessions';
import { DerivedSessions } from '../../src/engine/derived-sessions';
import { FileTextSpill } from '../../src/engine/file-text-spill';
import { CaptureStore } from '../../src/store';
import { writeTurns } from '../support/claude-exchange';

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
