// One writer per data directory: while a child process writes, this process can only read, and
// sees new data within a bounded wait (across the writer's snapshots and journal rotations);
// when the writer exits, the 'auto' reader takes over writing; nothing damages the database.
// A lock left by a dead process, or by a pid now reused by another process, is taken over.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CaptureStore, StoreLockedError } from '../../src/store';
import { childBodies, childUrl } from './fixtures/child-data';
import { startWriterChild } from './fixtures/child-process';
import { tempDir } from './fixtures/records';

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function findByUrl(store: CaptureStore, url: string): number | undefined {
  // The newest page is enough: the exchanges looked for were just written.
  let before: number | undefined;
  for (let i = 0; i < 100; i++) {
    const page = store.listExchanges({ limit: 500, before });
    const hit = page.items.find((e) => e.url === url);
    if (hit) return hit.id;
    if (page.next === undefined) return undefined;
    before = page.next;
  }
  return undefined;
}

describe('two processes on one data directory', { timeout: 120_000 }, () => {
  test('a reader follows a writer in another process, and neither corrupts the database', async () => {
    const tmp = tempDir();
    const w = startWriterChild(tmp.dir, 1, { STORE_SNAPSHOT_MS: '300' });
    try {
      assert.equal((await w.ready).role, 'writer');
      await assert.rejects(CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' }), (err: unknown) => err instanceof StoreLockedError && err.owner?.pid === w.child.pid);
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto', pollIntervalMs: 200 });
      let changes = 0;
      reader.onChange(() => changes++);
      try {
        assert.equal(reader.role, 'reader');
        // Three times: pick what the writer just completed, wait (bounded) until the reader has it.
        for (let round = 0; round < 3; round++) {
          await waitFor('the writer to make progress', () => w.completed.length > (round + 1) * 20);
          const latest = w.completed[w.completed.length - 1];
          let id: number | undefined;
          await waitFor(`exchange ${latest.n} in the reader`, () => (id = findByUrl(reader, childUrl(latest.run, latest.n))) !== undefined);
          const got = reader.getExchange(id!)!;
          const { request, response } = childBodies(latest.run, latest.n);
          assert.ok(got.requestBody!.data.equals(request));
          assert.ok(got.responseBody!.data.equals(response));
        }
        assert.ok(changes > 0, 'onChange fired');
        // It followed the writer's journal rotations without reloading the whole snapshot.
        assert.equal(reader.stats().reloads, 0);
        // The writer snapshots every 300 ms, so the reader went through several journal rotations.
        w.child.stdin!.write('stop\n');
        const exit = await w.exited;
        assert.equal(exit.code, 0, w.stderr());
        const total = w.completed.length;
        await waitFor('the reader to have everything', () => reader.stats().exchanges === total);
        // The writer is gone: an 'auto' reader takes over the writing.
        await waitFor('the reader to become the writer', () => reader.role === 'writer');
        reader.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 1, targetHost: 'api.openai.com', targetPort: 443, mode: 'intercept', openedAt: Date.now() });
        reader.exchangeUpdated({ id: 1, connectionId: 1, method: 'GET', url: 'https://api.openai.com/after-takeover', httpVersion: '1.1', kind: 'http', requestHeaders: [], startedAt: Date.now(), errors: [] });
        assert.equal(reader.stats().exchanges, total + 1);
      } finally {
        await reader.close();
      }
      // The directory is free again: a writer opens it cleanly and finds every exchange intact.
      assert.ok(!existsSync(join(tmp.dir, 'writer.lock')));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto' });
      try {
        assert.equal(store.role, 'writer');
        assert.deepEqual(store.warnings, []);
        assert.equal(store.stats().exchanges, w.completed.length + 1);
        assert.ok(findByUrl(store, 'https://api.openai.com/after-takeover') !== undefined);
        for (const c of w.completed.filter((_, i) => i % 25 === 0)) {
          const got = store.getExchange(findByUrl(store, childUrl(c.run, c.n))!)!;
          assert.ok(got.requestBody!.data.equals(childBodies(c.run, c.n).request));
        }
      } finally {
        await store.close();
      }
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
      tmp.cleanup();
    }
  });

  test('a stale lock of a dead process is taken over', async () => {
    const tmp = tempDir();
    try {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const deadPid = Number(dead.stdout);
      const lockPath = join(tmp.dir, 'writer.lock');
      writeFileSync(lockPath, JSON.stringify({ pid: deadPid, hostname: hostname(), startTime: 'linux:1', acquiredAt: '2025-01-01T00:00:00Z', token: 'dead' }));
      const logged: string[] = [];
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', log: (_l, m) => logged.push(m) });
      assert.equal(store.role, 'writer');
      assert.ok(logged.some((m) => m.includes(`took over the writer lock of process ${deadPid}`)), logged.join('\n'));
      const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number };
      assert.equal(lock.pid, process.pid);
      await store.close();
      assert.ok(!existsSync(lockPath), 'released on close');
    } finally {
      tmp.cleanup();
    }
  });

  test('a lock naming a live pid with another start time (a reused pid) is taken over; a live owner is not', { skip: process.platform !== 'linux' }, async () => {
    const tmp = tempDir();
    try {
      const lockPath = join(tmp.dir, 'writer.lock');
      writeFileSync(lockPath, JSON.stringify({ pid: process.pid, hostname: hostname(), startTime: 'linux:1', acquiredAt: '2025-01-01T00:00:00Z', token: 'reused' }));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto' });
      assert.equal(store.role, 'writer');
      // Now the lock is held by this live process: a second instance gets a reader.
      const second = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto' });
      assert.equal(second.role, 'reader');
      await second.close();
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });
});
