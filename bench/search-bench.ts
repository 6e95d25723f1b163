// Search across sessions (decision 71) on a store of N captured calls (default 5,000: the seeded
// Claude Code history of bench/extension-bench.ts, ~100 sessions). Prints figures, asserts nothing.
//   npx tsx bench/search-bench.ts [--calls=5000] [--queries=40]
// - engine: SessionSearchIndex as the engine runs it (the corpora made from the sessions' details
//   on the first query, then kept): the first query, then each query as a user types them (median,
//   p99), with filters, and the text the corpora hold;
// - CLI: `llm-capture search` (dist/cli.js, so build first) on the store alone, then with the derived
//   files VS Code's engine keeps beside it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveSessions } from '../src/app/live-sessions';
import { sessionCorpus } from '../src/conversation/session-search';
import { DerivedSessions } from '../src/engine/derived-sessions';
import { SessionSearchIndex } from '../src/engine/session-search-index';
import { CaptureStore } from '../src/store';
import { seededRandom, TextGenerator } from '../test/store/fixtures/synthetic-session';
import { seedStore } from './extension-bench/seed';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const CALLS = Number(arg('calls') ?? 5000);
const QUERIES = Number(arg('queries') ?? 40);

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-search-bench-'));
  try {
    const seeded = await seedStore(dir, CALLS, 500);
    console.log(`search bench: ${seeded.calls} calls in ${seeded.sessions} sessions, ${(seeded.rawBytes / 1e6).toFixed(0)} MB of bodies stored`);
    const store = await CaptureStore.open({ dataDir: dir, mode: 'reader' });
    const live = new LiveSessions(store);
    while (live.update(500).more) { /* read everything */ }
    const sessions = live.assembler.sessions();
    const detail = async (id: string) => live.assembler.session(id);

    // Words as the seeded text uses them, frequent and rare, and two that are nowhere.
    const gen = new TextGenerator(seededRandom(99));
    const words = Array.from({ length: QUERIES - 2 }, (_, i) => (i % 3 === 0 ? `${gen.word()} ${gen.word()}` : gen.word()));
    words.push('nowhere-to-be-found', 'refactor the capture store');
    const index = new SessionSearchIndex();
    let t = performance.now();
    const first = await index.search(sessions, words[0]!, {}, 200, detail);
    const firstMs = performance.now() - t;
    const times: number[] = [];
    let hits = 0;
    for (const q of words) {
      t = performance.now();
      const answer = await index.search(sessions, q, {}, 200, detail);
      times.push(performance.now() - t);
      hits += answer.hits.length;
    }
    const filtered: number[] = [];
    for (const q of words.slice(0, 10)) {
      t = performance.now();
      await index.search(sessions, q, { errors: true, model: 'sonnet' }, 200, detail);
      filtered.push(performance.now() - t);
    }
    console.log(`engine, first query (makes every session's corpus): ${firstMs.toFixed(0)} ms, ${first.hits.length} hits in ${first.sessionsSearched} sessions`);
    console.log(`engine, ${times.length} queries after it: median ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (${(hits / times.length).toFixed(0)} hits per query, at most 200)`);
    console.log(`engine, with filters (errors, model): median ${percentile(filtered, 0.5).toFixed(1)} ms, p99 ${percentile(filtered, 0.99).toFixed(1)} ms`);
    let corpusChars = 0;
    for (const s of sessions) corpusChars += sessionCorpus((await detail(s.id))!).chars;
    console.log(`text the corpora hold: ${(corpusChars / 1e6).toFixed(1)} M characters (kept up to 32 M)`);

    // The CLI as a user runs it (dist/cli.js), first on the store alone, then with the files VS Code's engine saves.
    const cli = (label: string) => {
      const started = performance.now();
      const out = execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), 'search', words[1]!, '--limit', '50', '--data-dir', dir], { encoding: 'utf8' });
      console.log(`llm-capture search, ${label}: ${(performance.now() - started).toFixed(0)} ms (process start included), ${out.trim().split('\n').length} lines`);
    };
    cli('the store alone (every call dissected and assembled)');
    const newest = store.listExchanges({ limit: 1 }).items[0]!;
    const details = await Promise.all(sessions.map((s) => detail(s.id)));
    await new DerivedSessions(dir).save({ lastExchangeId: newest.id, lastStartedAt: newest.startedAt }, live.calls, sessions, details.flatMap((d) => (d ? [d] : [])));
    cli("with the sessions VS Code's engine saved");
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
