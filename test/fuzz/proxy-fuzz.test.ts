// Fuzzing through the real proxy, with fixed seeds and a bounded number of cases (the 10,000-case
// run is bench/fuzz-bench.ts): mutated SSE streams, broken and hostile compressed bodies, hostile
// JSON request bodies, WebSocket traffic with permessage-deflate, and malformed HTTP from the
// client. For each case the client gets exactly what the upstream sent (or what a direct
// connection gives), the upstream exactly what the client sent, the proxy serves the next
// request, and at the end the store lists every exchange and shows every session.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFuzz, type FuzzReport } from '../support/fuzz/fuzz-run';

/** Seeds are fixed so a failure is reproduced by its seed and case number alone. */
const SEEDS = [20261203, 7];
const PER_CATEGORY = 16;

function explain(report: FuzzReport): string {
  const lines = report.failures.slice(0, 10).map((f) => `seed ${report.seed}, ${f.category} #${f.index} (${f.name}): ${f.problem}`);
  return [...lines, ...report.storeProblems].join('\n');
}

describe('fuzzing the proxy', { timeout: 600_000 }, () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${PER_CATEGORY} cases of each kind`, async () => {
      const report = await runFuzz(seed, PER_CATEGORY);
      assert.equal(report.failures.length + report.storeProblems.length, 0, explain(report));
      assert.ok(report.sessions > 0 && report.logEntries >= PER_CATEGORY * 3, `the store lists ${report.logEntries} entries in ${report.sessions} sessions`);
    });
  }
});
