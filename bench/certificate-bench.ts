// Leaf certificate benchmark (prints figures, asserts nothing):
//   npx tsx bench/certificate-bench.ts [--hosts=N]
// What a first handshake to a new host pays for its certificate: `secureContextFor` on a host the
// cache has not seen (issue the leaf, sign it natively, build the SecureContext), and on one it
// has (a map lookup). The target for a whole first handshake is < 20 ms (docs/decisions.md, 5).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadOrCreateCa } from '../src/proxy/ca';
import { LeafCertificates } from '../src/proxy/certificates';

const hosts = Number(/^--hosts=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--hosts=')) ?? '')?.[1] ?? 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function report(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const f = (ms: number) => `${ms.toFixed(3)} ms`;
  console.log(`${label}: median ${f(percentile(sorted, 0.5))}, p90 ${f(percentile(sorted, 0.9))}, max ${f(sorted[sorted.length - 1]!)} (${sorted.length} hosts)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-cert-bench-'));
  try {
    const ca = await loadOrCreateCa(dir, ['*.bench.test']);
    const leaves = await LeafCertificates.create(ca, { maxHosts: hosts + 10 });
    leaves.secureContextFor('warmup.bench.test');

    const fresh: number[] = [];
    for (let i = 0; i < hosts; i++) {
      const start = performance.now();
      leaves.secureContextFor(`host${i}.bench.test`);
      fresh.push(performance.now() - start);
    }
    const cached: number[] = [];
    for (let i = 0; i < hosts; i++) {
      const start = performance.now();
      leaves.secureContextFor(`host${i}.bench.test`);
      cached.push(performance.now() - start);
    }
    report('secureContextFor, new host', fresh);
    report('secureContextFor, cached host', cached);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
