// Bounded body store: a 200-request session that resends its growing history (Anthropic
// Messages JSON, each request = the previous messages + a new 2–5 KB turn, with the cache marker
// moving) is stored in at most twice the size of its largest request, and every request comes
// back byte for byte.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import { decodeManifest, encodeManifest } from '../../src/store/chunked-bodies';
import { chunkBoundaries } from '../../src/store/content-chunking';
import { body, connection, exchange, tempDir, T0 } from './fixtures/records';
import { syntheticSession } from './fixtures/synthetic-session';

describe('deduplicated bodies', { timeout: 120_000 }, () => {
  test('a 200-request growing session takes at most 2x its largest request', async () => {
    const requests = syntheticSession({ requests: 200, seed: 42 });
    const largest = Math.max(...requests.map((r) => r.length));
    const total = requests.reduce((a, r) => a + r.length, 0);
    // The session really is quadratic: tens of MB sent for well under 1 MB of content.
    assert.ok(total > 50 * largest, `session sends ${total} bytes, largest request ${largest}`);
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
      store.connectionUpdated(connection(1));
      requests.forEach((r, i) => store.exchangeUpdated(exchange(i + 1, 1, { requestBody: body(r), endedAt: T0 + 100_000 + i, outcome: 'complete' })));
      const s = store.stats();
      assert.equal(s.bodies, 200);
      assert.ok(s.storedBodyBytes <= 2 * largest, `stored ${s.storedBodyBytes} bytes for a largest request of ${largest}`);
      for (let i = 0; i < requests.length; i++) {
        const got = store.getExchange(store.storedExchangeId(i + 1)!)!;
        assert.ok(got.requestBody!.data.equals(requests[i]), `request ${i} differs`);
      }
      await store.close();
      // The same after reloading from the snapshot.
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      const last = again.listExchanges({ limit: 1 }).items[0];
      assert.ok(again.getBody(last.requestBody!.bodyId)!.equals(requests[199]));
      assert.equal(again.stats().storedBodyBytes, s.storedBodyBytes);
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('chunk boundaries survive an edit: only chunks around it change', () => {
    const a = Buffer.from(syntheticSession({ requests: 60 })[59]);
    const b = Buffer.concat([a.subarray(0, 100_000), Buffer.from('<an insertion of a few bytes>'), a.subarray(100_000)]);
    const cut = (buf: Buffer) => {
      let start = 0;
      return chunkBoundaries(buf).map((end) => {
        const c = buf.subarray(start, end).toString('latin1');
        start = end;
        return c;
      });
    };
    const ca = cut(a);
    const cb = new Set(cut(b));
    const shared = ca.filter((c) => cb.has(c)).length;
    assert.ok(shared >= ca.length - 3, `${shared} of ${ca.length} chunks unchanged`);
    const sizes = ca.slice(0, -1).map((c) => c.length);
    const mean = sizes.reduce((x, y) => x + y, 0) / sizes.length;
    assert.ok(mean > 2500 && mean < 8000, `mean chunk size ${mean}`);
  });

  test('manifests round-trip, including large and decreasing ids', () => {
    const ids = [1, 2, 3, 3, 1, 2 ** 31 + 5, 7, 2 ** 40, 0, 9_007_199_254_740_991];
    assert.deepEqual(decodeManifest(encodeManifest(ids)), ids);
    assert.equal(encodeManifest([5, 6, 7, 8]).length, 4);
  });
});
