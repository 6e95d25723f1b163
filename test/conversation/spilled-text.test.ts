// Large texts kept outside memory (docs/decisions.md, decision 83): an assembly whose texts are
// spilled gives exactly the sessions, views and transcripts of one that holds them, holds no
// spilled text itself, and rebuilding a view reads back no more as the session grows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildViewModel } from '../../src/app/conversation-view-builder';
import { diffViewModel } from '../../src/app/view-model-diff';
import { Assembler, assemble } from '../../src/conversation/assembler';
import { renderMarkdownTranscript } from '../../src/conversation/markdown-transcript';
import { isSpilled, spillBlock, type TextSpill } from '../../src/conversation/spilled-text';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { allModelFixtures } from '../llm/fixture-loader';
import { Clock, FullHistoryConversation, text, thinking, toolResult, toolUse } from '../support/llm-call-builder';
import { mixedWorkload } from '../support/mixed-workload';

/** A spill into a list, counting what is put and read back. */
class ListSpill implements TextSpill {
  readonly texts: string[] = [];
  reads = 0;
  constructor(readonly minChars?: number) {}
  put(value: string): () => string {
    const at = this.texts.push(value) - 1;
    return () => {
      this.reads++;
      return this.texts[at]!;
    };
  }
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** A spill that keeps its texts outside the V8 heap, as a file does. */
class BufferSpill implements TextSpill {
  put(value: string): () => string {
    const bytes = Buffer.from(value, 'utf16le');
    return () => bytes.toString('utf16le');
  }
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function everything(assembler: Assembler): unknown {
  const details = assembler.sessionIds().sort().map((id) => assembler.session(id)!);
  return json({
    sessions: assembler.sessions(), details, transcripts: details.map((d) => renderMarkdownTranscript(d)),
    // The conversation page's model, and the patch from it to itself (what an unchanged page gets).
    models: details.map(buildViewModel), patches: details.map((d) => diffViewModel(buildViewModel(d), buildViewModel(d))),
  });
}

function fixtureCalls(): LlmCall[] {
  return allModelFixtures().flatMap((f) => dissectExchange(f.load()));
}

describe('texts spilled out of the assembly', () => {
  for (const [name, calls] of [['three clients at once', mixedWorkload], ['every real capture in test/fixtures', fixtureCalls]] as const) {
    test(`${name}: the same sessions, views and transcripts as held in memory`, () => {
      const list = calls();
      const spill = new ListSpill(1);
      const spilled = new Assembler(undefined, spill);
      for (const call of list) spilled.add(call);
      assert.ok(spill.texts.length > 20, `texts were spilled (${spill.texts.length})`);
      assert.deepEqual(everything(spilled), everything(assemble(list)));
    });
  }

  test('the default bound spills long texts only, and a block is copied, never changed', () => {
    const spill = new ListSpill();
    const long = toolResult('t1', 'x'.repeat(5000));
    const short = text('short');
    const kept = spillBlock(long, spill);
    assert.notEqual(kept, long);
    assert.ok(isSpilled(kept) && !isSpilled(long));
    assert.equal(Object.getOwnPropertyDescriptor(long, 'output')?.value, 'x'.repeat(5000), 'the caller\'s block is untouched');
    assert.ok(Object.getOwnPropertyDescriptor(kept, 'output')?.get, 'the copy holds a reader, not the text');
    assert.deepEqual(Object.keys(kept), Object.keys(long));
    assert.equal(JSON.stringify(kept), JSON.stringify(long));
    assert.equal(spillBlock(short, spill), short);
    assert.equal(spillBlock(kept, spill), kept, 'a spilled block is not spilled again');
    // Assigning gives a plain value again, as on any object.
    (kept as { output: string }).output = 'replaced';
    assert.equal(Object.getOwnPropertyDescriptor(kept, 'output')?.value, 'replaced');
  });

  test('a tool call\'s arguments and parsed input are spilled together and read back equal', () => {
    const spill = new ListSpill();
    const input = { path: 'a.ts', content: 'y'.repeat(4000), n: 1.5, nested: { list: [1, null, 'z'] } };
    const call = toolUse('toolu_1', 'Write', input);
    const kept = spillBlock(call, spill);
    assert.equal(spill.texts.length, 2);
    assert.deepEqual(kept, call);
    assert.ok(Object.getOwnPropertyDescriptor(kept, 'input')?.get);
  });

  test('the assembly holds no spilled text: its segments and call records keep readers', () => {
    const clock = new Clock();
    const conversation = new FullHistoryConversation({ sessionId: 's1', system: `System. ${'s'.repeat(3000)}`, clock });
    const spill = new ListSpill();
    const assembler = new Assembler(undefined, spill);
    conversation.say('Read the file.');
    assembler.add(conversation.request([thinking('t'.repeat(3000)), toolUse('toolu_1', 'Read', { path: 'a.ts' })]));
    conversation.results(toolResult('toolu_1', 'r'.repeat(10_000)));
    assembler.add(conversation.request([text('a'.repeat(4000))]));
    const state = (assembler as unknown as { states: Map<string, { segments: Array<{ own: Array<{ block: object }>; calls: Array<{ call: LlmCall }> }> }> }).states.get('s1')!;
    const blocks = state.segments.flatMap((s) => s.own.map((i) => i.block));
    // The thinking, the tool result and the answer; the prompt and the tool call are short.
    assert.equal(blocks.filter(isSpilled).length, 3);
    for (const record of state.segments.flatMap((s) => s.calls)) {
      assert.ok(Object.getOwnPropertyDescriptor(record.call, 'system')?.get, 'the system prompt is spilled');
    }
    const detail = assembler.session('s1')!;
    const steps = detail.threads[0]!.turns.flatMap((t) => t.steps);
    const result = steps.find((s) => s.type === 'tool_result')!;
    assert.ok(Object.getOwnPropertyDescriptor(result, 'output')?.get, 'the view refers to the text');
    assert.equal(result.output, 'r'.repeat(10_000));
    assert.ok(Object.getOwnPropertyDescriptor(detail.threads[0]!, 'systemPrompt')?.get);
  });

  test('nothing made from a spilled text keeps it in memory: heads, titles, previews, views', () => {
    // Fresh strings, as the dissector's JSON.parse makes them; 100 calls with 40 KB texts.
    const fresh = (label: string) => JSON.parse(JSON.stringify(`${label} ${'lorem ipsum dolor sit amet '.repeat(1500)}`)) as string;
    const heldBy = (spill: TextSpill | undefined): { mb: number; assembler: Assembler } => {
      gc();
      const before = process.memoryUsage().heapUsed;
      const assembler = new Assembler(undefined, spill);
      const clock = new Clock();
      const conversation = new FullHistoryConversation({ sessionId: 's1', system: fresh('System.'), clock });
      conversation.say(fresh('Prompt'));
      for (let i = 0; i < 100; i++) {
        assembler.add(conversation.request([text(fresh(`Answer ${i}`)), toolUse(`toolu_${i}`, 'Bash', { cmd: `step ${i}` })]));
        conversation.results(toolResult(`toolu_${i}`, fresh(`Result ${i}`)));
        buildViewModel(assembler.session('s1')!);
      }
      conversation.history.length = 0;
      gc();
      return { mb: (process.memoryUsage().heapUsed - before) / 1024 / 1024, assembler };
    };
    const held = heldBy(undefined);
    const spilled = heldBy(new BufferSpill());
    assert.ok(held.mb > 7, `in memory, the texts are held: ${held.mb.toFixed(1)} MB`);
    assert.ok(spilled.mb < held.mb / 4, `spilled, ${spilled.mb.toFixed(1)} MB are held (in memory: ${held.mb.toFixed(1)} MB)`);
    assert.equal(spilled.assembler.session('s1')!.summary.callCount, held.assembler.session('s1')!.summary.callCount);
  });

  test('placing a request that forks a long history reads back no spilled text', () => {
    // Each request re-sends the history with its last message edited: the walk that finds the
    // fork point compares every entry, by the hashes made when they were spilled.
    const clock = new Clock();
    const spill = new ListSpill();
    const assembler = new Assembler(undefined, spill);
    const chunks = Array.from({ length: 60 }, (_, i) => `Chunk ${i} ${'c'.repeat(4000)}`);
    const reads: number[] = [];
    for (let i = 0; i < 20; i++) {
      const conversation = new FullHistoryConversation({ sessionId: 's1', system: 'System.', clock });
      for (const chunk of chunks) conversation.say(chunk);
      conversation.say(`Edited last message, version ${i}`);
      const before = spill.reads;
      assembler.add(conversation.request([text(`Answer ${i} ${'a'.repeat(3000)}`)]));
      reads.push(spill.reads - before);
    }
    assert.equal(assembler.session('s1')!.summary.callCount, 20);
    assert.ok(Math.max(...reads) <= 2, `reads per call: ${reads.join(' ')}`);
  });

  test('rebuilding a growing session\'s view reads back no more texts as it grows', () => {
    const clock = new Clock();
    const conversation = new FullHistoryConversation({ sessionId: 's1', system: 'System.', clock });
    const spill = new ListSpill();
    const assembler = new Assembler(undefined, spill);
    const readsPerRebuild: number[] = [];
    conversation.say(`Start. ${'p'.repeat(3000)}`);
    for (let i = 0; i < 60; i++) {
      assembler.add(conversation.request([text(`Answer ${i} ${'a'.repeat(3000)}`), toolUse(`toolu_${i}`, 'Bash', { cmd: `step ${i}` })]));
      conversation.results(toolResult(`toolu_${i}`, `Result ${i} ${'r'.repeat(5000)}`), `<system-reminder>${'m'.repeat(3000)}</system-reminder>`);
      const before = spill.reads;
      assert.equal(assembler.session('s1')!.summary.callCount, i + 1);
      readsPerRebuild.push(spill.reads - before);
    }
    // The conversation page's model is rebuilt too, and compared with the one the page has.
    const model = buildViewModel(assembler.session('s1')!);
    const before = spill.reads;
    conversation.say('One more.');
    assembler.add(conversation.request([text(`Last ${'z'.repeat(3000)}`)]));
    const patch = diffViewModel(model, buildViewModel(assembler.session('s1')!));
    const thread = patch.threads[0]!;
    assert.equal(thread.keepTurns, model.threads[0]!.turns.length - 1, 'only the last turn is sent again');
    assert.ok(spill.reads - before <= 8, `reads for the new call, its view and the page's patch: ${spill.reads - before}`);
    const early = Math.max(...readsPerRebuild.slice(5, 15));
    const late = Math.max(...readsPerRebuild.slice(-10));
    assert.ok(late <= early, `reads per rebuild: ${readsPerRebuild.join(' ')}`);
  });
});
