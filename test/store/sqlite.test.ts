// The sql.js wrapper: pragmas hold after export() (which resets them in some sql.js versions),
// cached statements keep working, and a failed unit of work (or a failed single statement) is undone without
// ending the batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqlDatabase } from '../../src/store/sqlite';

test('pragmas are re-applied and statements work after export', async () => {
  const db = await SqlDatabase.create(undefined);
  db.exec('CREATE TABLE t (v INTEGER)');
  db.begin();
  db.run('INSERT INTO t VALUES (?)', [1]);
  const bytes = db.export();
  assert.ok(bytes.length > 0);
  assert.equal(db.value('PRAGMA journal_mode'), 'memory');
  assert.equal(db.value('PRAGMA cache_size'), -4096);
  assert.equal(db.value('PRAGMA temp_store'), 2);
  db.run('INSERT INTO t VALUES (?)', [2]);
  assert.equal(db.value('SELECT SUM(v) FROM t'), 3);
  // The exported bytes are a complete database that includes the write made before export.
  const copy = await SqlDatabase.create(undefined, bytes);
  assert.equal(copy.value('SELECT SUM(v) FROM t'), 1);
  copy.close();
  db.close();
});

test('atomically() undoes a failed unit and keeps earlier ones', async () => {
  const db = await SqlDatabase.create(undefined);
  db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
  db.atomically(() => db.run('INSERT INTO t VALUES (1)'));
  assert.throws(() => db.atomically(() => {
    db.run('INSERT INTO t VALUES (2)');
    db.run('INSERT INTO t VALUES (1)');
  }));
  db.commit();
  assert.deepEqual(db.all('SELECT v FROM t'), [{ v: 1 }]);
  db.close();
});

test('a single statement that fails is undone whole, without a savepoint, and the batch goes on', async () => {
  const db = await SqlDatabase.create(undefined);
  db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
  db.begin();
  db.run('INSERT INTO t VALUES (1)');
  // Its first row went in before the second failed: SQLite takes it out again.
  assert.throws(() => db.run('INSERT INTO t VALUES (2), (1)'));
  db.run('INSERT INTO t VALUES (3)');
  db.commit();
  assert.deepEqual(db.all('SELECT v FROM t ORDER BY v'), [{ v: 1 }, { v: 3 }]);
  db.close();
});
