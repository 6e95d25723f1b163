// Splits a thread's segments into turns. A turn opens at a user message holding a real prompt
// (scaffolding never opens one) and runs until the next. Scaffolding before the first prompt is
// folded into the turn it precedes; tool results that share a message with a new prompt stay with
// the turn that made the calls. A restarted history (compaction, /clear) continues the current
// turn behind a marker until its next real prompt; a fork (rewind, diverging retry) continues the
// turn it branched from, its different answers marked as alternatives. Model calls join the turn
// at the place where their answer (or, without one, their last input entry) sits.
import type { Item } from './history';
import { isRealPrompt } from './scaffolding';
import type { CallRecord, Segment } from './segment';
import { copyField } from './spilled-text';
import { stepFor } from './steps';
import type { Step } from './types';

export interface TurnDraft {
  index: number;
  prompt: string;
  steps: Step[];
  records: CallRecord[];
  /** When the prompt's entry was first seen (for turns whose calls carry no timing). */
  at: number;
}

/** The prompt's words; one text is copied with copyField, so a long one stays spilled (spilled-text.ts). */
function setPrompt(turn: TurnDraft, items: readonly Item[]): void {
  const only = items.length === 1 ? items[0]!.block : undefined;
  if (only?.type === 'text') copyField(turn, 'prompt', only, 'text');
  else turn.prompt = items.map((item) => (item.block.type === 'text' ? item.block.text : '[image]')).join('\n\n');
}

interface Mark {
  pos: number;
  turn: TurnDraft | undefined;
}

export class TurnBuilder {
  readonly turns: TurnDraft[] = [];
  private current: TurnDraft | undefined;
  private pendingSteps: Step[] = [];
  private pendingRecords: CallRecord[] = [];
  /**
   * Scaffolding-only user messages, held until it is known what follows: a prompt (they belong
   * to the turn it opens: a slash command, a caveat typed before it) or anything else (they
   * belong to the running turn: a reminder after a tool result).
   */
  private held: Step[] = [];
  private readonly marks = new Map<Segment, Mark[]>();

  addSegment(segment: Segment): void {
    this.flushHeld();
    const marks: Mark[] = [];
    const parent = segment.parent?.segment;
    if (parent && this.marks.has(parent)) {
      this.current = this.turnAt(parent, segment.base - 1);
    } else if (this.marks.size > 0) {
      this.push({ type: 'text', role: 'system', text: 'The client restarted its history here (compaction, /clear or a new context).', scaffolding: true, scaffoldingKind: 'history-restart', marker: 'history-restart' });
    }
    this.marks.set(segment, marks);
    marks.push({ pos: parent && !this.marks.has(parent) ? 0 : segment.base, turn: this.current });
    // A fork rooting a thread of its own (see threadRoot) shows the opening it shares.
    const inherited = parent !== undefined && !this.marks.has(parent);
    let alternative = parent !== undefined && !inherited;
    const items: Item[] = [];
    for (let pos = inherited ? 0 : segment.base; pos < segment.length; pos++) items.push(segment.item(pos));
    const first = segment.length - items.length;
    for (let i = 0; i < items.length;) {
      let j = i + 1;
      while (j < items.length && !items[j]!.messageStart) j++;
      if (this.addMessage(items.slice(i, j), first + i, marks, alternative)) alternative = false;
      i = j;
    }
    // A stretch before any prompt belongs to the turn that the following prompt opens.
    for (let m = marks.length - 2; m >= 0; m--) marks[m]!.turn ??= marks[m + 1]!.turn;
    for (const record of segment.calls) {
      const anchor = record.outputEnd > record.outputStart ? record.outputStart : record.inputLength - 1;
      const turn = this.turnAt(segment, anchor);
      if (turn) turn.records.push(record);
      else this.pendingRecords.push(record);
    }
  }

  /** The turns, with a preamble turn for content that never reached a real prompt. */
  finish(): TurnDraft[] {
    this.flushHeld();
    if (this.pendingSteps.length > 0 || this.pendingRecords.length > 0) {
      const at = this.pendingRecords[0]?.call.startedAt ?? 0;
      this.turns.push({ index: this.turns.length, prompt: '', steps: this.pendingSteps, records: this.pendingRecords, at });
      this.pendingSteps = [];
      this.pendingRecords = [];
    }
    return this.turns;
  }

  private flushHeld(): void {
    for (const step of this.held) this.push(step);
    this.held = [];
  }

  private push(step: Step): void {
    if (this.current) this.current.steps.push(step);
    else this.pendingSteps.push(step);
  }

  /** Returns true when the message opened a turn. */
  private addMessage(items: Item[], pos: number, marks: Mark[], alternative: boolean): boolean {
    const promptAt = items.findIndex((it) => isRealPrompt(it.role, it.block));
    if (promptAt < 0) {
      const steps = items.map((item) => stepFor(item, alternative));
      if (steps.every((s) => s.role === 'user' && s.scaffolding)) {
        this.held.push(...steps);
        return false;
      }
      this.flushHeld();
      for (const step of steps) this.push(step);
      return false;
    }
    const before: Step[] = [];
    for (const item of items.slice(0, promptAt)) {
      if (item.block.type === 'tool-result') this.push(stepFor(item, alternative));
      else before.push(stepFor(item, alternative));
    }
    const promptItems: Item[] = [];
    const after: Step[] = [];
    for (const item of items.slice(promptAt)) {
      if (isRealPrompt(item.role, item.block)) promptItems.push(item);
      else after.push(stepFor(item, false));
    }
    const turn: TurnDraft = {
      index: this.turns.length, prompt: '',
      steps: [...this.pendingSteps, ...this.held, ...before, ...after], records: this.pendingRecords, at: items[promptAt]!.at,
    };
    setPrompt(turn, promptItems);
    this.pendingSteps = [];
    this.held = [];
    this.pendingRecords = [];
    this.turns.push(turn);
    this.current = turn;
    marks.push({ pos, turn });
    return true;
  }

  private turnAt(segment: Segment, pos: number): TurnDraft | undefined {
    const marks = this.marks.get(segment);
    if (!marks || marks.length === 0 || pos < marks[0]!.pos) {
      const parent = segment.parent?.segment;
      return parent && pos < segment.base && this.marks.has(parent) ? this.turnAt(parent, pos) : undefined;
    }
    // The last mark at or before pos.
    let lo = 0;
    let hi = marks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (marks[mid]!.pos <= pos) lo = mid;
      else hi = mid - 1;
    }
    return marks[lo]!.turn;
  }
}

/** Turns of one thread, from its segments in order. */
export function buildTurns(segments: readonly Segment[]): TurnDraft[] {
  const builder = new TurnBuilder();
  for (const segment of segments) builder.addSegment(segment);
  return builder.finish();
}
