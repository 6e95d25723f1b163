// Assembler benchmark (prints figures, asserts nothing):
//   node --expose-gc --import tsx bench/assembler-bench.ts   (or: npx tsx bench/assembler-bench.ts)
// A synthetic Claude Code session of 1,000 calls (a main thread of 900 calls over 90 turns and
// five subagents of 20 calls), each request re-sending its whole history, as the real client
// does. Measures a from-scratch build (target <= 100 ms) and one incremental update (target
// <= 5 ms), each with and without building the session view; each with the assembly in memory and
// with its long texts spilled to a file (decision 83), and what the assembly then holds.
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Assembler } from '../src/conversation/assembler';
import { FileTextSpill } from '../src/engine/file-text-spill';
import type { LlmCall } from '../src/llm/llm-call';
import { Clock, FullHistoryConversation, text, thinking, toolResult, toolUse, usage } from '../test/support/llm-call-builder';

const SESSION = 'bench-session';
const RUNS = 7;
const WARMUP = 2;

const filler = (label: string, chars: number) => `${label} ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(chars / 27))}`.slice(0, chars);

/** Like FullHistoryConversation.request, but shares message objects instead of cloning 1,000 histories. */
function call(c: FullHistoryConversation, output: ReturnType<typeof text>[]): LlmCall {
  const input = c.history.slice();
  const made = c.request(output, { input, usage: usage(12, 400, 30_000, 1_200) });
  return made;
}

function syntheticSession(): LlmCall[] {
  const clock = new Clock();
  const main = new FullHistoryConversation({ sessionId: SESSION, system: filler('main system', 20_000), clock, model: 'claude-opus-4-6', tools: ['Bash', 'Read', 'Agent'] });
  const calls: LlmCall[] = [];
  let tool = 0;
  for (let turn = 0; turn < 90; turn++) {
    main.say(`<system-reminder>${filler('reminder', 400)}</system-reminder>`, `Prompt ${turn}: ${filler('do the thing', 300)}`);
    for (let step = 0; step < 9; step++) {
      const id = `toolu_${tool++}`;
      const spawn = step === 4 && turn % 18 === 0;
      const prompt = `Subagent task ${turn}: ${filler('investigate', 500)}`;
      calls.push(call(main, [thinking(filler('thinking', 600)), text(filler('I will run a tool', 200)), spawn ? toolUse(id, 'Agent', { prompt }) : toolUse(id, 'Bash', { command: `step ${turn}.${step}` })]));
      if (spawn) {
        const sub = new FullHistoryConversation({ sessionId: SESSION, system: filler('subagent system', 4_000), clock, model: 'claude-haiku-4-5' });
        sub.say(prompt);
        for (let s = 0; s < 19; s++) {
          const sid = `toolu_sub_${turn}_${s}`;
          calls.push(call(sub, [text(filler('sub step', 150)), toolUse(sid, 'Read', { file_path: `f${s}.ts` })]));
          sub.results(toolResult(sid, filler('file content', 1_500)));
        }
        calls.push(call(sub, [text(`Final report ${turn}`)]));
        main.results(toolResult(id, `Final report ${turn}`));
      } else {
        main.results(toolResult(id, filler('tool output', 1_500)));
      }
    }
    calls.push(call(main, [text(filler('Turn done', 400))]));
  }
  return calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Wall and CPU time of `fn`. On a shared, loaded machine the wall clock includes waiting for a
 * core; CPU time (this process, all threads) and the minimum over runs are the steadier figures.
 */
interface Timing { wall: number; cpu: number }
function time(fn: () => void): Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function report(label: string, timings: Timing[], target: string): void {
  const walls = timings.map((t) => t.wall);
  const cpus = timings.map((t) => t.cpu);
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(`${label}: wall min ${f(Math.min(...walls))} / median ${f(median(walls))}; cpu min ${f(Math.min(...cpus))} / median ${f(median(cpus))}   (target ${target})`);
}

const calls = syntheticSession();
const blockChars = (b: LlmCall['output'][number]) => (b.type === 'text' || b.type === 'thinking' ? b.text.length : b.type === 'tool-result' ? b.output.length : b.type === 'tool-call' ? b.arguments.length : 0);
const resentChars = calls.reduce((n, c) => n + c.input.reduce((m, msg) => m + msg.content.reduce((k, b) => k + blockChars(b), 0), 0), 0);
const resentBlocks = calls.reduce((n, c) => n + c.input.reduce((m, msg) => m + msg.content.length, 0), 0);
console.log(`synthetic session: ${calls.length} calls; ${resentBlocks.toLocaleString()} content blocks and ${(resentChars / 1e6).toFixed(0)} M characters re-sent in total`);
/** Collects the setup's garbage before a measurement, when run with --expose-gc. */
const settle = () => (globalThis as { gc?: () => void }).gc?.();

/** The assembly held in memory, and with its long texts spilled to a file (decision 83). */
const spillDir = mkdtempSync(join(tmpdir(), 'llmc-assembler-bench-'));
const variants: Array<{ label: string; make: () => Assembler }> = [
  { label: 'in memory', make: () => new Assembler() },
  { label: 'texts spilled', make: () => new Assembler(undefined, FileTextSpill.open(spillDir)) },
];

for (const { label, make } of variants) {
  console.log(`\n${label}:`);
  const scratchAdd: Timing[] = [];
  const scratchView: Timing[] = [];
  const scratchBoth: Timing[] = [];
  for (let run = -WARMUP; run < RUNS; run++) {
    const assembler = make();
    settle();
    const add = time(() => {
      for (const c of calls) assembler.add(c);
    });
    let detail: ReturnType<Assembler['session']>;
    const view = time(() => {
      detail = assembler.session(SESSION);
    });
    if (run === 0) {
      const threads = detail?.threads ?? [];
      console.log(`result: ${threads.length} threads, ${threads.reduce((n, t) => n + t.turns.length, 0)} turns, ${threads.reduce((n, t) => n + t.turns.reduce((m, u) => m + u.steps.length, 0), 0)} steps, cost $${detail?.summary.costUsd}`);
    }
    if (run < 0) continue;
    scratchAdd.push(add);
    scratchView.push(view);
    scratchBoth.push({ wall: add.wall + view.wall, cpu: add.cpu + view.cpu });
  }
  report('from scratch, add 1,000 calls', scratchAdd, '');
  report('from scratch, then build the view', scratchView, '');
  report('from scratch, total', scratchBoth, '<= 100 ms');

  const incAdd: Timing[] = [];
  const incView: Timing[] = [];
  for (let run = -WARMUP; run < RUNS; run++) {
    const assembler = make();
    for (const c of calls.slice(0, -1)) assembler.add(c);
    assembler.session(SESSION);
    settle();
    const add = time(() => assembler.add(calls[calls.length - 1]!));
    const view = time(() => assembler.session(SESSION));
    if (run < 0) continue;
    incAdd.push(add);
    incView.push(view);
  }
  report('incremental, add the 1,000th call', incAdd, '<= 5 ms');
  report('incremental, then rebuild its session view', incView, '');

  // What the assembly and its built view hold: calls made afresh and dropped, so that only what
  // the assembly keeps of them remains (the script's own `calls` share nothing with them).
  settle();
  const before = process.memoryUsage().heapUsed;
  const held = make();
  for (const c of syntheticSession()) held.add(c);
  held.session(SESSION);
  settle();
  const heldMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(`held after the 1,000 calls, view built: ${heldMb.toFixed(1)} MB of heap (${held.sessions().length} session)`);
}
rmSync(spillDir, { recursive: true, force: true });
