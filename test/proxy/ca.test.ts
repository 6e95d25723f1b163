// The CA on disk: file modes, reuse, re-issue on a new host list, corrupt files, concurrent starts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { systemRootCertificates } from '../../src/proxy/trust-store';
import { loadOrCreateCa } from '../../src/proxy/ca';

const posix = process.platform !== 'win32';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

function countCertificates(pem: string): number {
  return pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

test('creates ca.pem (0644), ca-key.pem (0600), a record of the patterns, and a bundle of the roots plus our CA', async (t) => {
  const dataDir = join(tempDir(t), 'nested', 'storage');
  const logs: string[] = [];
  const ca = await loadOrCreateCa(dataDir, ['API.Anthropic.com', '*.Example.com', 'api.anthropic.com.'], (m) => logs.push(m));

  assert.equal(ca.created, true);
  assert.equal(ca.rotatedFrom, undefined);
  assert.deepEqual(ca.patterns, ['*.example.com', 'api.anthropic.com']);
  assert.deepEqual(ca.files, {
    certPath: join(dataDir, 'ca.pem'),
    keyPath: join(dataDir, 'ca-key.pem'),
    bundlePath: join(dataDir, 'ca-bundle.pem'),
  });
  // Nothing else is left behind: no temp files, no lock.
  assert.deepEqual(readdirSync(dataDir).sort(), ['ca-bundle.pem', 'ca-key.pem', 'ca.json', 'ca.pem']);
  if (posix) {
    assert.equal(modeOf(dataDir), 0o700);
    assert.equal(modeOf(ca.files.certPath), 0o644);
    assert.equal(modeOf(ca.files.keyPath), 0o600);
    assert.equal(modeOf(ca.files.bundlePath), 0o644);
  }
  assert.equal(readFileSync(ca.files.certPath, 'utf8'), ca.certPem);
  assert.match(readFileSync(ca.files.keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  assert.equal(ca.key.asymmetricKeyType, 'rsa');
  assert.equal(ca.key.asymmetricKeyDetails?.modulusLength, 2048);

  const bundle = readFileSync(ca.files.bundlePath, 'utf8');
  assert.equal(countCertificates(bundle), systemRootCertificates().length + 1);
  assert.ok(bundle.includes(ca.certPem.trim()));

  const record = JSON.parse(readFileSync(join(dataDir, 'ca.json'), 'utf8')) as { patterns: string[] };
  assert.deepEqual(record.patterns, ['*.example.com', 'api.anthropic.com']);
  assert.equal(logs.length, 1);
});

test('the CA is a v3 CA with pathLen 0, critical key usage and critical name constraints', async (t) => {
  const ca = await loadOrCreateCa(tempDir(t), ['api.anthropic.com', '*.example.com']);
  const x509 = new X509Certificate(ca.certPem);
  assert.ok(x509.ca);
  assert.ok(x509.verify(x509.publicKey), 'the natively made self-signature verifies');
  assert.ok(x509.serialNumber.length <= 40 && /^[0-7]/.test(x509.serialNumber), 'positive, at most 20 bytes');
  assert.equal(ca.cert.version, 2);
  const machine = hostname().replace(/[^A-Za-z0-9.-]/g, '').slice(0, 47) || 'localhost';
  assert.equal(ca.cert.subject.getField('CN').value, `LLM Capture CA (${machine})`);
  assert.equal(ca.cert.subject.getField('O').value, 'LLM Capture');
  const lifetimeDays = (ca.cert.validity.notAfter.getTime() - ca.cert.validity.notBefore.getTime()) / 86_400_000;
  assert.ok(lifetimeDays > 3650 && lifetimeDays < 3655, `about ten years, got ${lifetimeDays} days`);
  assert.ok(ca.cert.validity.notBefore.getTime() < Date.now() - 23 * 3_600_000, 'valid from a day ago');

  const text = execFileSync('openssl', ['x509', '-in', ca.files.certPath, '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(text, /Subject Key Identifier/);
  assert.match(text, /Name Constraints: critical\s+Permitted:\s+DNS:api\.anthropic\.com\s+DNS:example\.com\s+Excluded:\s+IP:0\.0\.0\.0\/0\.0\.0\.0\s+IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/);
  const selfCheck = spawnSync('openssl', ['verify', '-CAfile', ca.files.certPath, ca.files.certPath], { encoding: 'utf8' });
  assert.equal(selfCheck.status, 0, selfCheck.stdout + selfCheck.stderr);
});

test('reuses the stored CA when the pattern list is the same, in any order or case', async (t) => {
  const dataDir = tempDir(t);
  const first = await loadOrCreateCa(dataDir, ['api.openai.com', 'api.anthropic.com']);
  const again = await loadOrCreateCa(dataDir, ['API.ANTHROPIC.COM', 'api.openai.com', 'api.openai.com']);
  assert.equal(again.created, false);
  assert.equal(again.rotatedFrom, undefined);
  assert.equal(again.certPem, first.certPem);
  assert.ok(again.key.equals(first.key));
  assert.equal(again.cert.serialNumber, first.cert.serialNumber);
});

test('re-issues the CA when the patterns change, keeping the old certificate and key aside', async (t) => {
  const dataDir = tempDir(t);
  const first = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  const logs: string[] = [];
  const second = await loadOrCreateCa(dataDir, ['api.anthropic.com', 'openrouter.ai'], (m) => logs.push(m));

  assert.equal(second.created, true);
  assert.notEqual(second.certPem, first.certPem);
  assert.deepEqual(second.patterns, ['api.anthropic.com', 'openrouter.ai']);
  const old = second.rotatedFrom;
  assert.ok(old !== undefined && old.startsWith(join(dataDir, 'old')), `rotatedFrom ${old}`);
  assert.equal(readFileSync(join(old, 'ca.pem'), 'utf8'), first.certPem);
  assert.ok(existsSync(join(old, 'ca-key.pem')));
  assert.ok(existsSync(join(old, 'ca.json')));
  if (posix) assert.equal(modeOf(join(old, 'ca-key.pem')), 0o600);
  assert.ok(logs.some((m) => m.includes('intercepted hosts changed') && m.includes(old)));
  assert.equal(countCertificates(readFileSync(second.files.bundlePath, 'utf8')), systemRootCertificates().length + 1);
  assert.ok(readFileSync(second.files.bundlePath, 'utf8').includes(second.certPem.trim()));

  const third = await loadOrCreateCa(dataDir, ['openrouter.ai', 'api.anthropic.com']);
  assert.equal(third.created, false);
  assert.equal(third.certPem, second.certPem);
});

test('a corrupt key file is a clear error naming the file, and nothing is overwritten', async (t) => {
  const dataDir = tempDir(t);
  const ca = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  const garbage = '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n';
  writeFileSync(ca.files.keyPath, garbage);

  await assert.rejects(loadOrCreateCa(dataDir, ['api.anthropic.com']), (err: Error) => {
    assert.ok(err.message.includes(ca.files.keyPath), err.message);
    assert.match(err.message, /corrupt or unreadable/);
    return true;
  });
  // A different pattern list must not rotate it away silently either.
  await assert.rejects(loadOrCreateCa(dataDir, ['openrouter.ai']), /corrupt or unreadable/);
  assert.equal(readFileSync(ca.files.keyPath, 'utf8'), garbage);
  assert.equal(readFileSync(ca.files.certPath, 'utf8'), ca.certPem);
  assert.ok(!existsSync(join(dataDir, 'old')));
  assert.ok(!existsSync(join(dataDir, 'ca.lock')), 'the lock is released after a failure');
});

test('a key that does not belong to the certificate is an error too', async (t) => {
  const a = await loadOrCreateCa(tempDir(t), ['api.anthropic.com']);
  const dataDir = tempDir(t);
  const b = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  writeFileSync(b.files.keyPath, readFileSync(a.files.keyPath));
  await assert.rejects(loadOrCreateCa(dataDir, ['api.anthropic.com']), /is not the key of/);
});

test('an incomplete CA (key without certificate) is moved aside and replaced', async (t) => {
  const dataDir = tempDir(t);
  const first = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  unlinkSync(first.files.certPath);
  const second = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  assert.equal(second.created, true);
  assert.ok(second.rotatedFrom !== undefined);
  assert.ok(existsSync(join(second.rotatedFrom, 'ca-key.pem')));
  assert.ok(!second.key.equals(first.key));
});

test('a CA made by another format version, or without a record, is re-issued', async (t) => {
  const dataDir = tempDir(t);
  const first = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  const recordPath = join(dataDir, 'ca.json');
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { format: number };
  writeFileSync(recordPath, JSON.stringify({ ...record, format: 1 }));
  const second = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  assert.equal(second.created, true);
  assert.notEqual(second.certPem, first.certPem);
  unlinkSync(recordPath);
  const third = await loadOrCreateCa(dataDir, ['api.anthropic.com']);
  assert.equal(third.created, true);
  assert.ok(third.rotatedFrom !== undefined && existsSync(join(third.rotatedFrom, 'ca.pem')));
});

test('concurrent starts on a fresh directory agree on one CA', async (t) => {
  const dataDir = tempDir(t);
  const results = await Promise.all([1, 2, 3].map(() => loadOrCreateCa(dataDir, ['api.anthropic.com'])));
  assert.equal(results.filter((r) => r.created).length, 1);
  assert.equal(new Set(results.map((r) => r.certPem)).size, 1);
  assert.equal(readFileSync(join(dataDir, 'ca.pem'), 'utf8'), results[0].certPem);
});
