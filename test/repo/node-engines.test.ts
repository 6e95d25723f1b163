// The supported Node range is one promise kept everywhere: every package installed for the
// extension, its tests and its benchmarks accepts the oldest Node we support (no EBADENGINE on
// `npm ci`), CI runs on exactly that Node, and the type definitions are for that Node's major.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';

const ROOT = join(__dirname, '..', '..');
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

const manifest = readJson('package.json') as { engines: { node: string }; devDependencies: Record<string, string> };
const oldest = semver.minVersion(manifest.engines.node);

interface LockedPackage {
  engines?: { node?: string } | string[];
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

/** Packages of a lockfile whose declared Node range excludes `version` (those npm would warn about). */
function refusing(lockfile: string, version: string): string[] {
  const lock = readJson(lockfile) as { packages: Record<string, LockedPackage> };
  const out: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    // Platform packages for other systems are never installed here, so their engines never apply.
    if (pkg.os && !pkg.os.includes(process.platform)) continue;
    const range = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
    if (range && !semver.satisfies(version, range)) out.push(`${path || '(root)'} wants node ${range}`);
  }
  return out;
}

describe('the supported Node range', () => {
  it('names a minimum that is a Node 22 or newer release line (Node 20 reached its end of life in April 2026)', () => {
    assert.ok(oldest, `engines.node "${manifest.engines.node}" has no minimum`);
    assert.ok(semver.gte(oldest, '22.0.0'), `engines.node allows ${oldest.version}`);
  });

  for (const lockfile of ['package-lock.json', 'bench/package-lock.json', 'test/agents/package-lock.json']) {
    it(`every package in ${lockfile} accepts the oldest supported Node`, () => {
      if (!existsSync(join(ROOT, lockfile))) return;
      assert.deepEqual(refusing(lockfile, oldest!.version), []);
    });
  }

  it('CI installs and runs exactly the oldest supported Node', () => {
    const script = readFileSync(join(ROOT, 'scripts', 'oldest-node.sh'), 'utf8');
    assert.match(script, new RegExp(`node-from-npm\\.sh" ${oldest!.version.replace(/\./g, '\\.')}\\b`));
    assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /scripts\/oldest-node\.sh/);
  });

  it('type-checks against the oldest supported Node major', () => {
    assert.equal(semver.minVersion(manifest.devDependencies['@types/node'])?.major, oldest!.major);
  });
});

describe('the CLI on an older Node', () => {
  it('names the Node it needs and the one it got', async () => {
    const { unsupportedNode } = await import('../../src/cli/node-version');
    assert.equal(unsupportedNode(oldest!.version), undefined);
    assert.equal(unsupportedNode('24.1.0'), undefined);
    assert.equal(unsupportedNode('20.20.2'), `llm-capture needs Node ${oldest!.version} or newer; this is Node 20.20.2`);
    assert.match(unsupportedNode(`${oldest!.major}.${oldest!.minor - 1}.9`) ?? '', /needs Node/);
  });
});
