// Durability: a writer process is killed with SIGKILL at a random moment, 20 times in a row on
// the same data directory. After every kill the database loads, and every exchange whose final
// write returned more than 1 s before the kill is there with its exact bytes. A damaged
// snapshot is set aside with a warning and never written over; a damaged journal keeps its good
// records and a copy of itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import { openCheckedDatabase, readSnapshotSum, sumOf } from '../../src/store/database-file';
import { readJournalFile } from '../../src/store/journal';
import { childBodies, childUrl } from './fixtures/child-data';
import { startWriterChild, type Completed } from './fixtures/child-process';
import { body, connection, exchange, tempDir } from './fixtures/records';

/** A writer stores `count` exchanges of growing bodies on one connection, then closes (a final snapshot). */
async function writeExchanges(dir: string, count: number): Promise<void> {
  const store = await CaptureStore.open({ dataDir: dir, mode: 'writer' });
  store.connectionUpdated(connection(1));
  for (let i = 1; i <= count; i++) store.exchangeUpdated(exchange(i, 1, { requestBody: body(`request ${i} `.repeat(200 + i)) }));
  await store.close();
}

/** All exchanges of a store, by URL. */
function exchangesByUrl(store: CaptureStore): Map<string, number> {
  const byUrl = new Map<string, number>();
  let before: number | undefined;
  for (;;) {
    const page = store.listExchanges({ limit: 1000, before });
    for (const e of page.items) byUrl.set(e.url, e.id);
    if (page.next === undefined) return byUrl;
    before = page.next;
  }
}

function assertComplete(store: CaptureStore, byUrl: Map<string, number>, c: Completed, context: string): void {
  const id = byUrl.get(childUrl(c.run, c.n));
  assert.ok(id !== undefined, `${context}: exchange run ${c.run} n ${c.n} (completed ${c.time}) is missing`);
  const got = store.getExchange(id)!;
  const { request, response } = childBodies(c.run, c.n);
  assert.equal(got.outcome, 'complete', context);
  assert.ok(got.requestBody!.data.equals(request), `${context}: request body of ${c.n} differs`);
  assert.ok(got.responseBody!.data.equals(response), `${context}: response body of ${c.n} differs`);
}

describe('durability', { timeout: 300_000 }, () => {
  test('20 SIGKILLs at random moments lose nothing older than 1 s and never leave an unloadable database', async () => {
    const tmp = tempDir();
    try {
      const mustHave: Completed[] = [];
      let killedWithData = 0;
      for (let run = 0; run < 20; run++) {
        // Even runs snapshot every 150 ms (kills land inside snapshot writes and journal
        // rotations); odd runs rely on the journal alone (snapshots only at 256 KB of journal).
        // Two runs in three start behind: large bodies go in uncut, and the passes that cut them
        // (in this run, or when the next writer opens) get killed too.
        const w = startWriterChild(tmp.dir, run, { STORE_SNAPSHOT_MS: run % 2 === 0 ? '150' : '600000', STORE_BEHIND_MS: run % 3 === 0 ? '0' : '400' });
        const info = await w.ready;
        assert.equal(info.role, 'writer', `run ${run}`);
        // A torn journal tail is normal after a kill and is repaired silently; anything else is a failure.
        assert.deepEqual(info.warnings, [], `run ${run}: warnings on open: ${w.stderr()}`);
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 2500));
        const killedAt = Date.now();
        w.child.kill('SIGKILL');
        const exit = await w.exited;
        assert.equal(exit.signal, 'SIGKILL', `run ${run}: ${w.stderr()}`);
        const old = w.completed.filter((c) => c.time < killedAt - 1000);
        if (w.completed.length > 0) killedWithData++;
        mustHave.push(...old);

        // Load the files exactly as the kill left them (a reader changes nothing on disk).
        const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
        try {
          assert.equal(reader.role, 'reader');
          const byUrl = exchangesByUrl(reader);
          for (const c of old) assertComplete(reader, byUrl, c, `after kill ${run}`);
        } finally {
          await reader.close();
        }
      }
      assert.ok(killedWithData >= 15, 'the child wrote data before most kills');
      assert.ok(mustHave.length > 20, `only ${mustHave.length} exchanges completed more than 1 s before a kill`);

      // Finally the writer's own recovery: takes over the dead child's lock, repairs, and has it all.
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
      try {
        assert.equal(store.role, 'writer');
        assert.deepEqual(store.warnings, []);
        const byUrl = exchangesByUrl(store);
        for (const c of mustHave) assertComplete(store, byUrl, c, 'final writer');
      } finally {
        await store.close();
      }
      const leftovers = readdirSync(tmp.dir).filter((f) => f.includes('.broken-') || f.includes('.tmp-'));
      assert.deepEqual(leftovers, []);
    } finally {
      tmp.cleanup();
    }
  });

  test('a damaged snapshot is set aside with a warning and never overwritten', async () => {
    for (const damage of ['header', 'middle', 'truncated'] as const) {
      const tmp = tempDir();
      try {
        await writeExchanges(tmp.dir, 300);

        const path = join(tmp.dir, 'capture.sqlite');
        const good = readFileSync(path);
        // The writer's checksum is there and no longer matches: the damage is found by quick_check.
        assert.deepEqual(await readSnapshotSum(path), sumOf(good));
        const bad = Buffer.from(good);
        if (damage === 'header') bad.fill(0x5a, 0, 100);
        if (damage === 'middle') {
          // One whole page in the middle (the page size is at offset 16, big-endian).
          const pageSize = good.readUInt16BE(16);
          const page = Math.floor(good.length / 2 / pageSize) * pageSize;
          bad.fill(0xab, page, page + pageSize);
        }
        writeFileSync(path, damage === 'truncated' ? bad.subarray(0, Math.floor(bad.length / 2)) : bad);
        const broken = readFileSync(path);

        const logged: string[] = [];
        const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', log: (level, m) => level === 'warn' && logged.push(m) });
        assert.equal(store.warnings.length, 2, `${damage}: ${store.warnings.join(' | ')}`);
        assert.match(store.warnings[0], /could not be loaded/);
        assert.deepEqual(logged, store.warnings, 'warnings are logged too');
        const aside = readdirSync(tmp.dir).filter((f) => f.startsWith('capture.sqlite.broken-'));
        assert.equal(aside.length, 1, damage);
        assert.ok(store.warnings[0].includes(aside[0]));
        assert.ok(readFileSync(join(tmp.dir, aside[0])).equals(broken), `${damage}: the broken file is kept as it was`);
        // The store works, on a new file.
        assert.equal(store.stats().exchanges, 0);
        store.exchangeUpdated(exchange(1, 1, { requestBody: body('after repair') }));
        await store.close();
        assert.ok(readFileSync(join(tmp.dir, aside[0])).equals(broken), `${damage}: still untouched after close`);
        assert.ok(!readFileSync(path).equals(broken));
        const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
        assert.deepEqual(again.warnings, []);
        assert.equal(again.getExchange(again.listExchanges().items[0].id)!.requestBody!.data.toString(), 'after repair');
        await again.close();
      } finally {
        tmp.cleanup();
      }
    }
  });

  test("a snapshot that matches the writer's checksum is opened without quick_check; one that does not is checked", async () => {
    const tmp = tempDir();
    try {
      await writeExchanges(tmp.dir, 100);
      const path = join(tmp.dir, 'capture.sqlite');
      const good = readFileSync(path);
      const sum = await readSnapshotSum(path);
      assert.deepEqual(sum, sumOf(good), 'the writer records the size and CRC-32 of what it wrote');
      const checked = await openCheckedDatabase(undefined, good, sum);
      assert.equal(checked.checkedBy, 'sum');
      checked.db.close();
      // A page overwritten after the sum was taken: the sum no longer matches, quick_check runs and fails.
      const bad = Buffer.from(good);
      const pageSize = good.readUInt16BE(16);
      const page = Math.floor(good.length / 2 / pageSize) * pageSize;
      bad.fill(0xab, page, page + pageSize);
      await assert.rejects(openCheckedDatabase(undefined, bad, sum), /quick_check|malformed/);
      // Proof that a match is what skips the check: the same damaged bytes with their own sum open.
      const trusted = await openCheckedDatabase(undefined, bad, sumOf(bad));
      assert.equal(trusted.checkedBy, 'sum');
      trusted.db.close();
      // Without a sum (an older writer's files), the full check runs.
      const unchecked = await openCheckedDatabase(undefined, good);
      assert.equal(unchecked.checkedBy, 'quick_check');
      unchecked.db.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a journal damaged in the middle keeps the records before the damage and a copy of itself', async () => {
    const tmp = tempDir();
    try {
      // A writer that never snapshots on its own (neither by time nor by journal size), killed:
      // everything it wrote is in the journal.
      const w = startWriterChild(tmp.dir, 0, { STORE_SNAPSHOT_MS: '3600000', STORE_SNAPSHOT_JOURNAL_BYTES: String(1 << 30) });
      await w.ready;
      await waitUntil(() => w.completed.length >= 60);
      await new Promise((r) => setTimeout(r, 300));
      w.child.kill('SIGKILL');
      await w.exited;
      const journalPath = join(tmp.dir, 'capture.journal');
      // The damage goes inside a record 60% of the way through, with records after it: damage in
      // the last record is a torn tail (normal after a crash), not damage in the middle.
      const records = readJournalFile(journalPath)!.parsed.records;
      assert.ok(records.length >= 10, `${records.length} journal records`);
      const hit = records[Math.floor(records.length * 0.6)];
      const at = hit.end - Math.ceil(hit.payload.length / 2);
      const j = readFileSync(journalPath);
      j.fill(0x77, at, Math.min(at + 16, hit.end));
      writeFileSync(journalPath, j);

      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
      try {
        assert.equal(store.warnings.length, 1, store.warnings.join(' | '));
        assert.match(store.warnings[0], /journal is damaged/);
        const n = store.stats().exchanges;
        assert.ok(n >= 20 && n < w.completed.length, `recovered ${n} of ${w.completed.length} exchanges`);
        // What was recovered is intact (the last exchange may be there only in an earlier state).
        const byUrl = exchangesByUrl(store);
        const complete = w.completed.filter((c) => byUrl.has(childUrl(c.run, c.n)) && store.getExchange(byUrl.get(childUrl(c.run, c.n))!)!.outcome === 'complete');
        assert.ok(complete.length >= n - 1);
        for (const c of complete) assertComplete(store, byUrl, c, 'recovered');
        assert.equal(readdirSync(tmp.dir).filter((f) => f.startsWith('capture.journal.broken-')).length, 1);
      } finally {
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
