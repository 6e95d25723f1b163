// The large fuzz run: 10,000 cases (2,000 of each kind) through the real CLI proxy capturing to
// disk, the same generators and checks as test/fuzz/proxy-fuzz.test.ts (test/support/fuzz/).
// Prints the cases, any failure with its seed and number (enough to replay it), the store's
// listing afterwards, the proxy's peak memory and the run's pace. Nothing is asserted.
// Run: npx tsx bench/fuzz-bench.ts [--seed=N] [--per-kind=N]
import { CATEGORIES, runFuzz } from '../test/support/fuzz/fuzz-run';

const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const seed = arg('seed', 20261203);
const perKind = arg('per-kind', 2000);

async function main(): Promise<void> {
  console.log(`fuzz: seed ${seed}, ${perKind} cases of each of ${CATEGORIES.join(', ')} (${perKind * CATEGORIES.length} in all)`);
  let last = Date.now();
  const report = await runFuzz(seed, perKind, (done, total) => {
    if (Date.now() - last < 10_000 && done < total) return;
    last = Date.now();
    console.log(`  ${done}/${total}`);
  });
  const total = Object.values(report.cases).reduce((a, b) => a + b, 0);
  console.log('\ncases by kind:');
  for (const c of CATEGORIES) {
    const failed = report.failures.filter((f) => f.category === c).length;
    console.log(`  ${c.padEnd(14)} ${String(report.cases[c]).padStart(6)} run, ${failed} failed`);
  }
  console.log(`\nfailures: ${report.failures.length} of ${total}`);
  for (const f of report.failures.slice(0, 40)) console.log(`  seed ${seed}, ${f.category} #${f.index} (${f.name}): ${f.problem.split('\n').join(' / ')}`);
  console.log(`store afterwards: ${report.logEntries} log entries, ${report.sessions} sessions, ${report.storeProblems.length === 0 ? 'all listed and shown' : report.storeProblems.join('; ')}`
    + `; the oldest ${report.removedByRetention} cases' exchanges removed by retention (512 MB)`);
  console.log(`proxy peak RSS: ${report.proxyPeakRssMb ?? '?'} MB`);
  console.log(`time: ${(report.ms / 1000).toFixed(1)} s, ${(total / (report.ms / 1000)).toFixed(1)} cases/s (each case also runs a direct baseline where one applies, and a health request)`);
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
