// A failed `llm-capture import` leaves no store behind: a file that cannot be imported is refused
// before the store is opened, and when writing fails after that (here: a file size limit, as a
// full disk would), the store files and directories the import created are removed. A store that
// was there before is never removed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from './cli-process';
import { assertNoJavaScriptError, assertNoStore, chromeEntry, harText, withField, writeHar } from './har-fixtures';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** The CLI with RLIMIT_FSIZE set (KiB): a write past it fails with EFBIG, as on a full disk. */
function runCliWithFileLimit(kib: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', `ulimit -f ${kib} && exec "$@"`, 'bash', process.execPath, '--import', 'tsx', MAIN, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Every file of a directory with its content's hash. */
function fingerprint(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')]));
}

async function listedUrls(dataDir: string): Promise<string[]> {
  const log = await runCli(['log', '--json', '--data-dir', dataDir]);
  assert.equal(log.code, 0, log.stderr);
  return (JSON.parse(log.stdout) as { url: string }[]).map((e) => e.url).sort();
}

describe('a failed HAR import leaves no store behind', { skip: process.platform === 'win32' && 'ulimit', timeout: 120_000 }, () => {
  let root: string;
  let good: string;
  let bad: string;
  let big: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'llmc-har-cleanup-'));
    good = writeHar(root, 'good.har', harText([chromeEntry(1), chromeEntry(2)]));
    bad = writeHar(root, 'bad.har', harText([withField(chromeEntry(1), 'request.url', 5)]));
    // Incompressible, so that the store's files must grow past the limit.
    const binary = { mimeType: 'application/octet-stream', encoding: 'base64', size: 4 << 20, text: randomBytes(4 << 20).toString('base64') };
    big = writeHar(root, 'big.har', harText([withField(chromeEntry(3), 'response.content', binary)]));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a refused file leaves an empty directory empty and a store as it was', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const r = await runCli(['import', bad, '--data-dir', empty]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(readdirSync(empty), []);

    const existing = join(root, 'existing');
    assert.equal((await runCli(['import', good, '--data-dir', existing])).code, 0);
    const before = fingerprint(existing);
    const again = await runCli(['import', bad, '--data-dir', existing]);
    assert.equal(again.code, 1, again.stderr);
    assert.deepEqual(fingerprint(existing), before);
  });

  it('a write that fails in a new directory removes the store and the directories it made', async () => {
    const top = join(root, 'new');
    const r = await runCliWithFileLimit(1024, ['import', big, '--data-dir', join(top, 'a', 'b')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /llm-capture: cannot import .*big\.har into .*b: .*EFBIG/);
    assertNoJavaScriptError(r);
    assert.deepEqual(readdirSync(root).filter((n) => n === 'new'), [], 'the directory made by the import is still there');
  });

  it('a write that fails beside other files removes only the store', async () => {
    const dir = join(root, 'with-ca');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ca.pem'), 'not really a certificate');
    const r = await runCliWithFileLimit(1024, ['import', big, '--data-dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assertNoStore(dir);
    assert.deepEqual(readdirSync(dir), ['ca.pem']);
  });

  it('a write that fails in an existing store leaves it and what it held', async () => {
    const dir = join(root, 'kept');
    assert.equal((await runCli(['import', good, '--data-dir', dir])).code, 0);
    const urls = await listedUrls(dir);
    // The store's files, and no writer lock: a close whose journal cannot flush still releases it.
    const storeFiles = () => readdirSync(dir).filter((n) => n.startsWith('capture.') || n === 'writer.lock').sort();
    const names = storeFiles();
    const r = await runCliWithFileLimit(1024, ['import', big, '--data-dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(storeFiles(), names);
    const after = await listedUrls(dir);
    assert.ok(urls.every((u) => after.includes(u)), `lost entries: ${urls.filter((u) => !after.includes(u)).join(', ')}`);
  });
});
