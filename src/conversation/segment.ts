// A segment is one continuous history as the client re-sends it: each request extends it. When
// the client's history stops being an extension (compaction, /clear, a rewind, a retry that got
// a different answer) a new segment starts, either sharing a prefix with its parent (fork) or
// standing alone (root). Nothing is ever removed, so nothing is lost; shared prefixes are held
// once, so nothing is duplicated. Threads are groups of segments, decided when views are built.
import type { LlmCall } from '../llm/llm-call';
import { sameBlock } from './content-hash';
import { itemHash, type History, type HistoryEntry, type Item } from './history';
import { isRealPrompt } from './scaffolding';
import { copyField, isSpilled } from './spilled-text';

/** How one model call was placed into a segment. */
export interface CallRecord {
  call: LlmCall;
  /** Length of the history the request carried, in this segment's positions. */
  inputLength: number;
  /** Positions of the output appended by this call ([start, end), empty when none). */
  outputStart: number;
  outputEnd: number;
  /** The earlier call whose request this one repeated. */
  retryOf?: string;
  /** A retry replaced this call's (failed) output. */
  superseded?: boolean;
  /** Positions of earlier entries that this call's request re-sent in an edited form. */
  edited?: number[];
}

export interface SegmentParent {
  segment: Segment;
  /** Number of the parent's entries that this segment shares. */
  length: number;
}

export class Segment implements History {
  readonly own: Item[] = [];
  readonly calls: CallRecord[] = [];
  /** Position of the first real user prompt (inherited from the parent when shared). */
  firstPromptIndex: number | undefined;
  /**
   * How many fewer entries than this segment the client re-sends (transient reminders and
   * reasoning it stopped re-sending, less tool results it repeats), so that the quick continuity
   * check looks at the right place in the next request.
   */
  dropped = 0;
  lastAt: number;

  constructor(
    readonly id: string,
    /** Creation order within the session (ties in time are broken by it). */
    readonly seq: number,
    readonly parent: SegmentParent | undefined,
    readonly fingerprint: string | undefined,
    /** The wire session id of the calls that created it (differs after sessions merge). */
    readonly wireSessionId: string | undefined,
    readonly startedAt: number,
  ) {
    this.lastAt = startedAt;
    const inherited = parent?.segment.firstPromptIndex;
    if (parent && inherited !== undefined && inherited < parent.length) this.firstPromptIndex = inherited;
  }

  get base(): number {
    return this.parent?.length ?? 0;
  }

  get length(): number {
    return this.base + this.own.length;
  }

  item(index: number): Item {
    // Iterative walk up the parents: fork chains are short, but recursion buys nothing here.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let segment: Segment = this;
    while (index < segment.base) segment = segment.parent!.segment;
    return segment.own[index - segment.base]!;
  }

  entry(index: number): HistoryEntry {
    return this.item(index);
  }

  hash(index: number): number {
    return itemHash(this.item(index));
  }

  /** True when entry `at` of `request` is this segment's entry `index`, as sent or as edited since. */
  matches(index: number, request: History, at: number): boolean {
    const item = this.item(index);
    if (item.hash !== undefined && isSpilled(item.block) && item.block.type !== 'tool-call') {
      // A spilled text is compared by its hash, made when it was spilled, rather than read back
      // (decision 83): the request's side is hashed once per request, however many segments
      // compare with it. For these types, equal hashes are what sameBlock means.
      if (itemHash(item) === request.hash(at)) return true;
    } else {
      const entry = request.entry(at);
      if (item.role === entry.role && sameBlock(item.block, entry.block)) return true;
    }
    return item.altHashes !== undefined && item.altHashes.includes(request.hash(at));
  }

  /**
   * Holds a tool call that the API sent without an id as the client re-sends it, under the
   * client's id, so that its result (which names that id) pairs with it. The call's own output
   * is left as it was sent.
   */
  nameCall(index: number, callId: string): void {
    const item = this.item(index);
    if (item.block.type !== 'tool-call') return;
    // Field by field, so that spilled fields stay spilled (spilled-text.ts).
    const named: Record<string, unknown> = {};
    for (const key of Object.keys(item.block)) if (key !== 'callIdFromName') copyField(named, key, item.block, key);
    named.callId = callId;
    item.block = named as typeof item.block;
    item.hash = undefined;
  }

  append(item: Item): void {
    if (this.firstPromptIndex === undefined && isRealPrompt(item.role, item.block)) this.firstPromptIndex = this.length;
    this.own.push(item);
    if (item.at > this.lastAt) this.lastAt = item.at;
  }

  /** Removes own entries from `length` on (a failed output that a retry replaces). */
  truncate(length: number): void {
    this.own.length = Math.max(0, length - this.base);
    if (this.firstPromptIndex !== undefined && this.firstPromptIndex >= this.length) this.firstPromptIndex = undefined;
  }

  record(record: CallRecord): void {
    this.calls.push(record);
    const end = record.call.endedAt ?? record.call.startedAt;
    if (end > this.lastAt) this.lastAt = end;
  }

  /** The root of this segment's fork chain. */
  get root(): Segment {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let segment: Segment = this;
    while (segment.parent) segment = segment.parent.segment;
    return segment;
  }
}
