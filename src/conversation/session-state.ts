// The incremental state of one session: its segments (deduplicated histories), its side calls,
// the response-id chain points of the Responses API, and the content indexes that views use to
// link subagents. `add` touches only this session and costs O(new content) per call.
import type { ContentBlock, LlmCall, Message, ToolDefinition } from '../llm/llm-call';
import { entryHash, roleClassOf } from './content-hash';
import { place, quickPlace, type Placement } from './continuity';
import { ItemHistory, makeItem, outputEntries, type History, type HistoryEntry } from './history';
import { ResponseChains } from './response-chain';
import { isRealPrompt, promptKey } from './scaffolding';
import { Segment, type CallRecord } from './segment';
import { childSessionIdsIn, spawnPromptOf, type SpawnCall } from './spawn-calls';
import { isSpilled, spillBlock, spillField, type TextSpill } from './spilled-text';

type ToolResultBlock = ContentBlock & { type: 'tool-result' };

/** The entry hash of each spilled output block, made from the text before it was spilled. */
const outputHashes = new WeakMap<ContentBlock, number>();

/** What an added call revealed that may concern other sessions. */
export interface AddOutcome {
  /** Real user prompts this call brought in (for attaching orphan title calls). */
  newPrompts: string[];
  /** Child session ids named in new tool results (OpenCode `task_id: ses_…`). */
  childSessionIds: Array<{ sessionId: string; toolCallId: string }>;
  /** The segment this call created, when it started a new root history. */
  newRoot?: Segment;
  /** Spawning tool calls (Agent, Task, task) this call brought in. */
  newSpawns: SpawnCall[];
}

const RECENT_PROMPTS = 5;

function isRealPromptAt(segment: Segment, index: number): boolean {
  if (index < 0) return false;
  const item = segment.item(index);
  return isRealPrompt(item.role, item.block);
}

function holdsOutput(segment: Segment): boolean {
  for (let i = 0; i < segment.length; i++) if (segment.item(i).role === 'assistant') return true;
  return false;
}

/** A failed call leaves room for its retry to replace what it produced. */
function failed(call: LlmCall): boolean {
  return call.errors.length > 0 || (call.status !== undefined && call.status >= 400);
}

/**
 * A streamed answer's text is joined from deltas (`text += delta`), which V8 keeps as a tree of
 * every ~40-byte piece: about 3× the text's size, for as long as the session is held. Reading a
 * character makes V8 flatten it in place into one string (all holders share it), so the pieces
 * can be collected. Costs one copy of the text, once per call.
 */
function flatten(text: string): void {
  if (text.length > 0) text.charCodeAt(0);
}

function flattenBlock(block: ContentBlock): void {
  if (block.type === 'text' || block.type === 'thinking') flatten(block.text);
  else if (block.type === 'tool-call') flatten(block.arguments);
  else if (block.type === 'reasoning') flatten(block.summary);
}

/** The last message of an input that holds a real prompt (what a side call's view shows as its prompt). */
function lastPromptMessage(input: readonly Message[]): Message[] {
  for (let m = input.length - 1; m >= 0; m--) {
    const message = input[m]!;
    if (message.content.some((block) => isRealPrompt(roleClassOf(message.role, block), block))) return [message];
  }
  return [];
}

export class SessionState {
  readonly segments: Segment[] = [];
  readonly sideCalls: LlmCall[] = [];
  readonly spawns: SpawnCall[] = [];
  /** Tool call id → its result (`output` may be spilled), for matching a subagent's final answer. */
  readonly toolResults = new Map<string, ToolResultBlock>();
  /** Child wire session id → the tool call that started it. */
  readonly childLinks = new Map<string, string>();
  readonly mergedIds: string[] = [];
  readonly responses = new ResponseChains();
  /** The last few real prompts, for recognising a title request made about one of them. */
  readonly recentPrompts: string[] = [];
  /** Bumped on every change; views are cached against it. */
  revision = 0;
  callCount = 0;
  startedAt: number;
  lastAt: number;
  client: LlmCall['client'];
  provider: LlmCall['provider'];
  private hasConversation = false;
  /** The tools and system prompt of the last call kept: calls that resend equal ones share them. */
  private lastTools?: { json: string; tools: ToolDefinition[] };
  /** The last system prompt, and the reader of its spilled copy that equal ones share. */
  private lastSystem?: { text: string; read?: () => string };

  /** Where large texts go (decision 83); without one, everything stays in memory. */
  constructor(readonly id: string, first: LlmCall, readonly idSource: string, private readonly spill?: TextSpill) {
    this.startedAt = first.startedAt;
    this.lastAt = first.endedAt ?? first.startedAt;
    this.client = first.client;
    this.provider = first.provider;
  }

  get conversationStarted(): boolean {
    return this.hasConversation;
  }

  add(call: LlmCall): AddOutcome {
    this.revision++;
    this.callCount++;
    this.startedAt = Math.min(this.startedAt, call.startedAt);
    this.lastAt = Math.max(this.lastAt, call.endedAt ?? call.startedAt);
    const outcome: AddOutcome = { newPrompts: [], childSessionIds: [], newSpawns: [] };
    const kept = this.keep(call);
    if (call.side) {
      this.sideCalls.push(kept);
      if (call.side === 'prewarm') {
        const request = this.responses.request(call);
        this.responses.prewarmed(call, request, request.tip ?? quickPlace(request.history, this.candidates(request.fingerprint)));
      }
      return outcome;
    }
    if (!this.hasConversation) {
      // The session's client and provider are those of its conversation, not of a side call.
      this.hasConversation = true;
      this.client = call.client;
      this.provider = call.provider;
    }
    const request = this.responses.request(call);
    const placement = request.tip ?? this.placeRequest(request.history, request.fingerprint);
    this.apply(kept, request.history, placement, request.fingerprint, outcome);
    return outcome;
  }

  /**
   * The call as the records keep it. Its input (the whole history, which every request resends:
   * megabytes late in a long session, a fresh copy per call) was needed only to place the call,
   * and its entries are held once, by the segments; keeping it per call made the assembler's
   * memory grow with the sum of all requests. Views read a call's ids, times, model, usage,
   * errors, tools and system prompt, and a side call's last prompt (sidePrompt), so a side call
   * keeps the message holding it. Tools and a system prompt equal to the previous call's are
   * shared with it. Large texts of its output and its system prompt are spilled (decision 83), and
   * the output's other texts are flattened (see flatten). A copy: the caller's call is never changed
   * (flattening changes V8's representation of a string, not its value).
   */
  private keep(call: LlmCall): LlmCall {
    let { tools, system } = call;
    if (tools.length > 0) {
      const json = JSON.stringify(tools);
      if (this.lastTools?.json === json) tools = this.lastTools.tools;
      else this.lastTools = { json, tools };
    }
    if (system !== undefined) {
      if (system === this.lastSystem?.text) system = this.lastSystem.text;
      else this.lastSystem = { text: system };
    }
    const output = call.output.map((block) => {
      const kept = spillBlock(block, this.spill);
      if (kept === block) flattenBlock(block);
      else outputHashes.set(kept, entryHash(roleClassOf('assistant', block), block));
      return kept;
    });
    const input = call.side === undefined || call.side === 'count-tokens' || call.side === 'prewarm' ? [] : lastPromptMessage(call.input);
    const kept: LlmCall = { ...call, tools, ...(system !== undefined ? { system } : {}), input, output };
    if (this.lastSystem && system !== undefined) this.lastSystem.read = spillField(kept, 'system', this.spill, this.lastSystem.read);
    return kept;
  }

  /**
   * Whether the call's history continues one of this session's segments (no change made). The
   * quick check first; then the walk that placing the call would do, so that a conversation
   * resumed by a new process (another system prompt, old entries re-sent in the client's own
   * form) is recognised as this session, as placing it would recognise it (placeRequest).
   */
  continues(call: LlmCall): boolean {
    const request = this.responses.request(call);
    if (request.history.length === 0) return false;
    if ((request.tip ?? quickPlace(request.history, this.candidates(request.fingerprint))) !== undefined) return true;
    const placement = this.placeRequest(request.history, request.fingerprint);
    return placement.kind === 'extend' || placement.kind === 'repeat';
  }

  /** Takes over another session's state (a child or title session recognised as part of this). */
  absorb(other: SessionState): void {
    this.revision++;
    this.segments.push(...other.segments);
    this.sideCalls.push(...other.sideCalls);
    this.spawns.push(...other.spawns);
    for (const [k, v] of other.toolResults) this.toolResults.set(k, v);
    for (const [k, v] of other.childLinks) this.childLinks.set(k, v);
    this.responses.absorb(other.responses);
    this.mergedIds.push(other.id, ...other.mergedIds);
    this.callCount += other.callCount;
    this.startedAt = Math.min(this.startedAt, other.startedAt);
    this.lastAt = Math.max(this.lastAt, other.lastAt);
    if (!this.hasConversation && other.hasConversation) {
      this.hasConversation = true;
      this.client = other.client;
      this.provider = other.provider;
    }
  }

  /**
   * Where a request goes among the segments with its system prompt (a subagent's differs from its
   * parent's). A resumed conversation comes back from a new process whose system prompt may read
   * differently (Claude Code's `--resume` describes the model anew, the environment block
   * changes), yet it re-sends the whole history: a request that extends a segment holding model
   * output continues that segment, whatever its system prompt.
   */
  private placeRequest(history: History, fingerprint: string | undefined): Placement {
    const placement = place(history, this.candidates(fingerprint));
    if (placement.kind !== 'new' || fingerprint === undefined) return placement;
    const others = this.segments.filter((s) => s.fingerprint !== undefined && s.fingerprint !== fingerprint && holdsOutput(s));
    const across = others.length > 0 ? place(history, others) : placement;
    return across.kind === 'extend' ? across : placement;
  }

  private candidates(fingerprint: string | undefined): Segment[] {
    return this.segments.filter((s) => fingerprint === undefined || s.fingerprint === undefined || s.fingerprint === fingerprint);
  }

  private newSegment(call: LlmCall, parent: Segment | undefined, length: number, fingerprint: string | undefined): Segment {
    const segment = new Segment(
      `seg:${call.id}`, this.segments.length, parent ? { segment: parent, length } : undefined,
      fingerprint ?? call.identity.systemFingerprint ?? parent?.fingerprint, call.identity.sessionId, call.startedAt,
    );
    this.segments.push(segment);
    return segment;
  }

  private apply(call: LlmCall, history: History, placement: Placement, fingerprint: string | undefined, outcome: AddOutcome): void {
    switch (placement.kind) {
      case 'extend': {
        const { segment, from } = placement;
        // Old entries the client rewrote are remembered in their new form, for the next check.
        for (const edit of placement.edits) (segment.item(edit.index).altHashes ??= []).push(edit.hash);
        for (const naming of placement.named) segment.nameCall(naming.index, naming.callId);
        segment.dropped = placement.dropped;
        const last = segment.calls[segment.calls.length - 1];
        const noNewInput = from >= history.length;
        this.appendEntries(segment, history, from, call, outcome);
        // Same request as the previous call, which got nothing back: a retry.
        const retryOf = noNewInput && last && last.inputLength === segment.length && last.outputEnd === last.outputStart ? last.call.id : undefined;
        this.appendOutput(segment, call, segment.length, outcome, retryOf);
        if (placement.edits.length > 0) segment.calls[segment.calls.length - 1]!.edited = placement.edits.map((e) => e.index);
        return;
      }
      case 'repeat':
        this.repeat(placement.segment, placement.length, call, outcome);
        return;
      case 'fork': {
        for (const naming of placement.named) placement.segment.nameCall(naming.index, naming.callId);
        const segment = this.newSegment(call, placement.segment, placement.length, fingerprint);
        this.appendEntries(segment, history, placement.length, call, outcome);
        this.appendOutput(segment, call, segment.length, outcome);
        return;
      }
      default: {
        const segment = this.newSegment(call, undefined, 0, fingerprint);
        this.appendEntries(segment, history, 0, call, outcome);
        this.appendOutput(segment, call, segment.length, outcome);
        outcome.newRoot = segment;
      }
    }
  }

  /**
   * The request equals an earlier point of the segment. Same answer: a retry, kept once. A failed
   * first answer with nothing built on it: replaced. A different answer: an alternative, kept
   * in a fork so that nothing is lost.
   */
  private repeat(segment: Segment, length: number, call: LlmCall, outcome: AddOutcome): void {
    const output = new ItemHistory(outputEntries(call.output).map((e) => makeItem(e, call.id, call.startedAt)));
    const original = this.findRecord(segment, length);
    const retryOf = original?.record.call.id;
    const fits = length + output.length <= segment.length;
    let same = fits;
    for (let i = 0; same && i < output.length; i++) same = segment.matches(length + i, output, i);
    if (output.length === 0 || same) {
      segment.record({ call, inputLength: length, outputStart: length, outputEnd: length + output.length, retryOf });
      this.responses.answered(call, segment, length + output.length);
      return;
    }
    if (original && failed(original.record.call) && original.segment === segment && original.record.outputEnd === segment.length
      && original.record.outputStart === length && length >= segment.base) {
      original.record.superseded = true;
      segment.truncate(length);
      this.appendOutput(segment, call, length, outcome, retryOf);
      return;
    }
    const fork = this.newSegment(call, segment, length, segment.fingerprint);
    this.appendOutput(fork, call, length, outcome, retryOf);
  }

  private findRecord(segment: Segment, inputLength: number): { segment: Segment; record: CallRecord } | undefined {
    for (let s: Segment | undefined = segment; s; s = s.parent?.segment) {
      for (let i = s.calls.length - 1; i >= 0; i--) {
        const record = s.calls[i]!;
        if (record.inputLength === inputLength && !record.superseded) return { segment: s, record };
      }
      if (inputLength > s.base) break;
    }
    return undefined;
  }

  private appendEntries(segment: Segment, history: History, from: number, call: LlmCall, outcome: AddOutcome): void {
    for (let i = from; i < history.length; i++) {
      this.appendItem(segment, history.entry(i), call, call.startedAt, outcome);
    }
  }

  private appendOutput(segment: Segment, call: LlmCall, inputLength: number, outcome: AddOutcome, retryOf?: string): void {
    const start = segment.length;
    for (const entry of outputEntries(call.output)) {
      this.appendItem(segment, entry, call, call.endedAt ?? call.startedAt, outcome);
    }
    segment.record({ call, inputLength, outputStart: start, outputEnd: segment.length, retryOf });
    this.responses.answered(call, segment, segment.length);
  }

  private appendItem(segment: Segment, entry: HistoryEntry, call: LlmCall, at: number, outcome: AddOutcome): void {
    const index = segment.length;
    const item = makeItem(entry, call.id, at);
    item.block = spillBlock(entry.block, this.spill);
    // Hashed while the text is in memory: a spilled entry is compared by its hash (Segment.matches).
    if (item.block !== entry.block) item.hash = entryHash(entry.role, entry.block);
    else if (isSpilled(item.block)) item.hash = outputHashes.get(item.block);
    segment.append(item);
    const { block } = entry;
    if (block.type === 'tool-call') {
      const prompt = spawnPromptOf(block);
      if (prompt !== undefined) {
        const spawn: SpawnCall = { toolCallId: block.callId, toolName: block.name, prompt, key: promptKey(prompt), segmentId: segment.id, index, at: call.startedAt };
        this.spawns.push(spawn);
        outcome.newSpawns.push(spawn);
      }
    } else if (block.type === 'tool-result') {
      this.toolResults.set(block.callId, item.block as ToolResultBlock);
      for (const sessionId of childSessionIdsIn(block.output)) {
        this.childLinks.set(sessionId, block.callId);
        outcome.childSessionIds.push({ sessionId, toolCallId: block.callId });
      }
    } else if (isRealPrompt(entry.role, block) && (entry.messageStart || !isRealPromptAt(segment, index - 1))) {
      // The text of the entry just appended (promptTextAt(segment, index) reads no further yet),
      // from the request, not from its spilled copy.
      const prompt = block.type === 'text' ? block.text : '[image]';
      outcome.newPrompts.push(prompt);
      this.recentPrompts.push(prompt);
      if (this.recentPrompts.length > RECENT_PROMPTS) this.recentPrompts.shift();
    }
  }
}
