// How our threads are started (src/proxy/worker-script.ts): a bundle beside the caller runs with
// Node's compile cache on before it is compiled, so that the next start reads its compiled code
// back; a thread started from a cached thread uses the same cache; without a cache, or from the
// sources, the thread starts as before (docs/decisions.md, decision 52).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../../src/proxy/worker-script';

/** A stand-in bundle: reports the cache its thread uses, writes it, and ends. */
const BUNDLE = `
const { parentPort } = require('node:worker_threads');
const m = require('node:module');
m.flushCompileCache();
parentPort.postMessage(m.getCompileCacheDir() ?? null);
`;

function run(script: { code: string; eval: boolean }): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script.code, { eval: script.eval });
    w.once('message', (dir: string | null) => {
      resolve(dir);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const files = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

describe('starting a thread of ours', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-worker-script-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'test-worker.js'), BUNDLE);

  it('runs the bundle with the compile cache it is given, which then holds its compiled code', async () => {
    const cache = join(dir, 'cache');
    const script = workerScript(dir, 'test-worker', cache);
    assert.equal(dirname((await run(script))!), cache, 'Node reports the per-version directory inside the one given');
    assert.ok(files(cache) >= 1, 'the bundle was cached');
  });

  it('runs the bundle as it is without a cache', async () => {
    const script = workerScript(dir, 'test-worker', undefined);
    assert.deepEqual(script, { code: join(dir, 'test-worker.js'), eval: false });
    assert.equal(await run(script), null);
  });

  it('a bundle that is not there is run from its TypeScript source', () => {
    const script = workerScript(join(__dirname, '../../src/proxy'), 'proxy-worker', join(dir, 'unused'));
    assert.equal(script.eval, true);
    assert.match(script.code, /proxy-worker\.ts/);
  });
});
