#!/usr/bin/env node
// Runs every test/**/*.test.ts (or the files and folders given) with node's own test runner (its summary is the last lines).
// As root on Linux the whole run moves into a fresh network namespace with only loopback up,
// so that nothing a test starts (the real agent CLIs included) can reach beyond this machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);

if (process.env.LLM_CAPTURE_NETNS !== '1' && process.env.LLM_CAPTURE_NO_NETNS !== '1' && process.platform === 'linux' && process.getuid?.() === 0) {
  const probe = spawnSync('unshare', ['--net', 'true']);
  if (probe.status === 0) {
    const inner = `ip link set lo up && exec "${process.execPath}" "${fileURLToPath(import.meta.url)}" "$@"`;
    const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', inner, 'run-tests', ...args], {
      stdio: 'inherit', env: { ...process.env, LLM_CAPTURE_NETNS: '1' },
    });
    process.exit(r.status ?? 1);
  }
  console.error('run-tests: could not create a network namespace; running on the host network');
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

// A folder argument means every test file under it (node 22's --test would take it as one file).
const files = args.length > 0
  ? args.flatMap((a) => (statSync(a, { throwIfNoEntry: false })?.isDirectory() ? findTests(join(root, a)) : [a]))
  : findTests(join(root, 'test'));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit', cwd: root, env: process.env,
});
process.exit(r.status ?? 1);
