// `llm-capture export --har FILE` holds prompts, answers and tool output: the file is readable by
// its owner only (0600), whatever the umask allows, and also when it replaces an older 0644 file.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cli-process';
import { chromeEntry, harText, writeHar } from './har-fixtures';

describe('HAR export is private', { skip: process.platform === 'win32' && 'POSIX modes', timeout: 60_000 }, () => {
  let root: string;
  let dataDir: string;
  let umask: number;
  before(async () => {
    // The CLI inherits this process's umask.
    umask = process.umask();
    root = mkdtempSync(join(tmpdir(), 'llmc-har-mode-'));
    dataDir = join(root, 'store');
    const r = await runCli(['import', writeHar(root, 'in.har', harText([chromeEntry(1)])), '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  async function exportWith(mask: number, target: string): Promise<number> {
    process.umask(mask);
    const r = await runCli(['export', '--har', target, '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(readFileSync(target, 'utf8')) as { log: { entries: unknown[] } }).log.entries.length, 1);
    return statSync(target).mode & 0o777;
  }

  it('a new file under umask 022 is 0600', async () => {
    assert.equal(await exportWith(0o022, join(root, 'new.har')), 0o600);
  });

  it('an existing 0644 file is replaced by a 0600 one', async () => {
    const target = join(root, 'old.har');
    writeFileSync(target, 'an older export');
    chmodSync(target, 0o644);
    assert.equal(await exportWith(0o022, target), 0o600);
  });

  it('umask 077 gives 0600 too', async () => {
    assert.equal(await exportWith(0o077, join(root, 'strict.har')), 0o600);
  });
});
