// The headless CLI: bad usage is one line on stderr and exit code 2; a real run serves
// through the proxy (curl to a mapped fake) and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/proxied-request';
import { JSON_BODY, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { createTestPki, type TestPki } from '../support/test-pki';

const ROOT = join(__dirname, '..', '..');
const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('llm-capture CLI', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let fake: FakeUpstream;
  let dataDir: string;
  before(async () => {
    pki = createTestPki();
    fake = await startFakeUpstream(pki.serverCert(['api.anthropic.com']));
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-cli-test-'));
  });
  after(async () => {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  for (const args of [['proxy', '--bogus'], ['proxy', '--map', 'nonsense'], ['proxy', '--port', 'x'], ['frobnicate']]) {
    test(`"${args.join(' ')}" exits 2 with a one-line error`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^llm-capture: [^\n]+\n$/);
    });
  }

  test('proxy serves a mapped host and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, 'proxy', '--port', '0', '--data-dir', dataDir, '--intercept', 'api.anthropic.com',
      '--upstream-ca', pki.caCertPath, '--map', `api.anthropic.com:443=127.0.0.1:${fake.port}`, '--only-mapped'], { cwd: ROOT });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('close', () => reject(new Error(`the CLI exited before listening: ${out}`)));
      });
      const res = await curl('https://api.anthropic.com/json', ['--proxy', `http://127.0.0.1:${port}`, '--cacert', join(dataDir, 'ca.pem')]);
      assert.equal(res.exitCode, 0, res.stderr);
      assert.ok(res.body.equals(JSON_BODY));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
