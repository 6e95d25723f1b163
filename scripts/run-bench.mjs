#!/usr/bin/env node
// Runs the proxy benchmark (bench/run.ts; see bench/README.md). Arguments pass through:
//   npm run bench                 full run (about 2 minutes)
//   npm run bench -- --quick      smaller samples, for checking the bench itself
//   npm run bench -- --only=direct,ours
//   npm run bench -- --nice       run at nice -10 (root), so other work on the machine disturbs less
// As root on Linux the run moves into a fresh network namespace with only loopback up, as the
// tests do: whatever a proxy under test tries, it can reach nothing beyond this machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
// The bench stops itself well before this; the cap only guards against a wedged child.
const HARD_LIMIT_MS = 200_000;

if (process.env.LLM_CAPTURE_NETNS !== '1' && process.env.LLM_CAPTURE_NO_NETNS !== '1' && process.platform === 'linux' && process.getuid?.() === 0) {
  const probe = spawnSync('unshare', ['--net', 'true']);
  if (probe.status === 0) {
    const inner = `ip link set lo up && exec "${process.execPath}" "${fileURLToPath(import.meta.url)}" "$@"`;
    const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', inner, 'run-bench', ...args], {
      stdio: 'inherit', env: { ...process.env, LLM_CAPTURE_NETNS: '1' }, timeout: HARD_LIMIT_MS + 5_000, killSignal: 'SIGKILL',
    });
    process.exit(r.status ?? 1);
  }
  console.error('run-bench: could not create a network namespace; running on the host network (loopback only all the same)');
}

// Every process of the run (client, fake, each proxy) inherits this, so the columns stay equal.
if (args.includes('--nice')) {
  try {
    setPriority(-10);
  } catch (e) {
    console.error(`run-bench: --nice needs root (${e.message}); running at normal priority`);
  }
}

if (!existsSync(join(root, 'bench', 'node_modules', 'mockttp'))) {
  console.error('run-bench: mockttp is not installed, its column will be skipped (install it with `npm install --prefix bench`)');
}

const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...args], {
  stdio: 'inherit', cwd: root, env: process.env, timeout: HARD_LIMIT_MS, killSignal: 'SIGKILL',
});
if (r.error) console.error(`run-bench: ${r.error.message}`);
process.exit(r.status ?? 1);
