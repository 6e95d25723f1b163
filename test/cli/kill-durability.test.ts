// Durability through the real CLI: traffic flows through `llm-capture proxy`, the process
// is killed with SIGKILL at a random moment, 20 times in a row on one data directory. After each
// kill the store loads, and every exchange that completed more than a second before it is there.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { CaptureStore } from '../../src/store';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { startCliProxy } from './cli-process';

const ROUNDS = 20;
let pki: TestPki;
let fake: FakeUpstream;
let dataDir: string;

before(async () => {
  pki = createTestPki();
  fake = await startFakeUpstream(pki.serverCert(['api.anthropic.com']));
  dataDir = mkdtempSync(join(tmpdir(), 'llmc-kill-'));
});

after(async () => {
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

it(`SIGKILL while traffic flows, ${ROUNDS} times: nothing completed over a second before the kill is lost`, { timeout: 600_000 }, async () => {
  const completed: { path: string; at: number; round: number }[] = [];
  const kills: number[] = [];
  let seq = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const proxy = await startCliProxy(['--data-dir', dataDir, '--intercept', 'api.anthropic.com', '--upstream-ca', pki.caCertPath,
      '--map', `api.anthropic.com:443=127.0.0.1:${fake.port}`, '--only-mapped']);
    const agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: true });
    let running = true;
    const traffic = (async () => {
      while (running) {
        const path = `/v1/messages?round=${round}&n=${seq++}`;
        try {
          const res = await fetchVia(agent, 'api.anthropic.com', 443, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: [JSON.stringify({ n: seq, pad: 'x'.repeat(2000) })] });
          if (res.statusCode === 200) completed.push({ path, at: Date.now(), round });
        } catch {
          // The kill cuts the request in flight; that one is allowed to be lost.
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1200 + Math.random() * 1800));
    kills[round] = Date.now();
    proxy.child.kill('SIGKILL');
    await once(proxy.child, 'exit');
    running = false;
    await traffic;
    agent.destroy();

    const store = await CaptureStore.open({ dataDir, mode: 'reader' });
    try {
      assert.deepEqual(store.warnings, [], `round ${round}: the store loaded with warnings`);
      const stored = new Set<string>();
      let before: number | undefined;
      do {
        const page = store.listExchanges({ limit: 1000, before });
        for (const x of page.items) stored.add(new URL(x.url).pathname + new URL(x.url).search);
        before = page.next;
      } while (before !== undefined);
      // Each exchange is judged against the kill of its own round: one that completed within a
      // second of an earlier kill may have been lost then, and is not required later either.
      const mustHave = completed.filter((c) => c.at < kills[c.round] - 1000);
      const lost = mustHave.filter((c) => !stored.has(c.path));
      assert.deepEqual(lost, [], `round ${round}: lost ${lost.length} of ${mustHave.length} exchanges completed over 1 s before the kill`);
    } finally {
      await store.close();
    }
  }
  assert.ok(completed.length > ROUNDS * 5, `only ${completed.length} exchanges completed in all`);
});
