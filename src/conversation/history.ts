// A conversation history as a flat sequence of entries (one content block each), so that APIs
// that group blocks into messages differently (Anthropic merges a turn's blocks, the Responses
// API sends one item per block) still compare equal.
//
// Views are lazy: a request re-sends thousands of blocks, and the assembler only needs to look
// at a few of them (the first, the last it already has) plus the new ones. Building an entry
// object per block per request would make a long session quadratic in allocations.
import type { ContentBlock, Message } from '../llm/llm-call';
import { entryHash, entryShape, roleClassOf, type RoleClass } from './content-hash';

export interface HistoryEntry {
  role: RoleClass;
  block: ContentBlock;
  /** First block of a message: turn splitting groups by message. */
  messageStart: boolean;
}

/** An entry kept by the assembler. */
export interface Item extends HistoryEntry {
  /** Computed on first need (rarely: most entries are never hashed). */
  hash?: number;
  /** Hashes of later versions of this entry (edited in place by the client, e.g. cleared). */
  altHashes?: number[];
  /** The LlmCall that first carried it. */
  llmCallId: string;
  at: number;
}

export interface History {
  readonly length: number;
  entry(index: number): HistoryEntry;
  hash(index: number): number;
}

export function entryShapeOf(entry: HistoryEntry): string {
  return entryShape(entry.role, entry.block);
}

export function makeItem(entry: HistoryEntry, llmCallId: string, at: number): Item {
  return { role: entry.role, block: entry.block, messageStart: entry.messageStart, llmCallId, at };
}

export function itemHash(item: Item): number {
  return (item.hash ??= entryHash(item.role, item.block));
}

/** The input messages of one request, flattened on demand. */
export class FlatInput implements History {
  readonly length: number;
  /** starts[m] = flat index of message m's first block; starts[messages.length] = length. */
  private readonly starts: Int32Array;
  /** Only a few positions are ever hashed per request: a map, not a (sparse) array. */
  private readonly hashes = new Map<number, number>();

  constructor(private readonly messages: readonly Message[]) {
    const starts = new Int32Array(messages.length + 1);
    let n = 0;
    for (let m = 0; m < messages.length; m++) {
      starts[m] = n;
      n += messages[m]!.content.length;
    }
    starts[messages.length] = n;
    this.starts = starts;
    this.length = n;
  }

  entry(index: number): HistoryEntry {
    // Binary search for the message holding this flat index (the last start <= index).
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const message = this.messages[lo]!;
    const offset = index - this.starts[lo]!;
    const block = message.content[offset]!;
    return { role: roleClassOf(message.role, block), block, messageStart: offset === 0 };
  }

  hash(index: number): number {
    let h = this.hashes.get(index);
    if (h === undefined) {
      const e = this.entry(index);
      h = entryHash(e.role, e.block);
      this.hashes.set(index, h);
    }
    return h;
  }
}

/** Items already held, seen as a history (a chain prefix, a prewarm's input). */
export class ItemHistory implements History {
  constructor(private readonly items: readonly Item[]) {}
  get length(): number {
    return this.items.length;
  }
  entry(index: number): HistoryEntry {
    return this.items[index]!;
  }
  hash(index: number): number {
    return itemHash(this.items[index]!);
  }
}

/** Several histories end to end: a chained request is its chain's history plus its own input. */
export class ConcatHistory implements History {
  readonly length: number;
  private readonly offsets: number[] = [];

  constructor(private readonly parts: readonly History[]) {
    let n = 0;
    for (const part of parts) {
      this.offsets.push(n);
      n += part.length;
    }
    this.length = n;
  }

  private locate(index: number): [History, number] {
    for (let p = this.parts.length - 1; p >= 0; p--) {
      if (index >= this.offsets[p]!) return [this.parts[p]!, index - this.offsets[p]!];
    }
    throw new RangeError(`history index ${index} out of range`);
  }

  entry(index: number): HistoryEntry {
    const [part, i] = this.locate(index);
    return part.entry(i);
  }

  hash(index: number): number {
    const [part, i] = this.locate(index);
    return part.hash(i);
  }
}

/** A prefix of another history (a chain point inside a segment). */
export class PrefixHistory implements History {
  constructor(private readonly source: History, readonly length: number) {}
  entry(index: number): HistoryEntry {
    return this.source.entry(index);
  }
  hash(index: number): number {
    return this.source.hash(index);
  }
}

/** Output blocks of a response, as entries. */
export function outputEntries(output: readonly ContentBlock[]): HistoryEntry[] {
  return output.map((block, i) => ({ role: roleClassOf('assistant', block), block, messageStart: i === 0 }));
}
