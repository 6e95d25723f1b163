// Conversation view model benchmark (prints figures, asserts nothing):
//   npx tsx bench/view-model-bench.ts [--turns=N]
// `buildViewModel` for one assembled session of N turns (default 500), each a prompt and an
// answer: what the engine does before a session goes to its webview. Then one more call: the patch
// a page open on the session gets (docs/decisions.md, decision 76), its size against the whole model's,
// and what making it costs.
import { performance } from 'node:perf_hooks';
import { assemble } from '../src/conversation/assembler';
import { buildViewModel } from '../src/app/conversation-view-builder';
import { diffViewModel } from '../src/app/view-model-diff';
import { Clock, FullHistoryConversation, text, usage } from '../test/support/llm-call-builder';

const turns = Number(/^--turns=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--turns=')) ?? '')?.[1] ?? 500);
const RUNS = 9;
const WARMUP = 2;

const clock = new Clock();
const conv = new FullHistoryConversation({ sessionId: 'long', system: 'S', clock });
const calls = [];
for (let i = 0; i < turns; i++) {
  conv.say(`prompt ${i}`);
  calls.push(conv.request([text(`answer ${i}`)], { usage: usage(10, 5) }));
}
const detail = assemble(calls).session('long')!;
conv.say(`prompt ${turns}`);
const next = assemble([...calls, conv.request([text(`answer ${turns}`)], { usage: usage(10, 5) })]).session('long')!;

const times: number[] = [];
let built = 0;
for (let run = -WARMUP; run < RUNS; run++) {
  const start = performance.now();
  const vm = buildViewModel(detail);
  const ms = performance.now() - start;
  built = vm.threads[0]?.turns.length ?? 0;
  if (run >= 0) times.push(ms);
}
times.sort((a, b) => a - b);
console.log(`buildViewModel, ${built} turns: min ${times[0]!.toFixed(2)} ms, median ${times[Math.floor(RUNS / 2)]!.toFixed(2)} ms, max ${times[RUNS - 1]!.toFixed(2)} ms (${RUNS} runs)`);

const before = buildViewModel(detail);
const after = buildViewModel(next);
const diffs: number[] = [];
let patchBytes = 0;
for (let run = -WARMUP; run < RUNS; run++) {
  const start = performance.now();
  const patch = diffViewModel(before, after);
  const ms = performance.now() - start;
  patchBytes = JSON.stringify(patch).length;
  if (run >= 0) diffs.push(ms);
}
diffs.sort((a, b) => a - b);
const wholeBytes = JSON.stringify(after).length;
console.log(`one more call: the whole model ${(wholeBytes / 1024).toFixed(0)} KB of JSON, the patch ${(patchBytes / 1024).toFixed(1)} KB; diffViewModel median ${diffs[Math.floor(RUNS / 2)]!.toFixed(2)} ms (min ${diffs[0]!.toFixed(2)}, max ${diffs[RUNS - 1]!.toFixed(2)})`);
