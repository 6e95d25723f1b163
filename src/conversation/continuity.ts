// Where does a re-sent history belong? Each request carries the whole history; the assembler
// finds the segment it extends. The quick check compares two entries per candidate (the first,
// and the segment's last at the matching place in the request) so that a long session stays
// linear in content: old entries are never compared or hashed again. When no candidate passes,
// a full walk tolerates what clients really do to old history (clear old tool results, drop
// transient reminders and reasoning, re-sign or name old tool calls, repeat a tool result) and
// otherwise finds the longest shared prefix for a fork. A client that rewrites only the newest
// output as it re-sends it (Gemini CLI, on every request) is caught by walking just that output.
import { sameBlock } from './content-hash';
import { entryShapeOf, type History } from './history';
import { scaffoldingKind } from './scaffolding';
import type { Segment } from './segment';
import { leadingText } from './spilled-text';

export interface Edit {
  /** Position in the segment. */
  index: number;
  /** Hash of the entry as the request now carries it. */
  hash: number;
}

/** A tool call the API sent without an id, which the client re-sends under `callId`. */
export interface Naming {
  /** Position in the segment. */
  index: number;
  callId: string;
}

export type Placement =
  /**
   * The request extends the segment; its entries from `from` on are new. `dropped` is how many
   * fewer entries than the segment the request carries up to there (negative when it repeats some).
   */
  | { kind: 'extend'; segment: Segment; from: number; edits: Edit[]; dropped: number; named: Naming[] }
  /** The request equals the segment's first `length` entries: a repeat of an earlier request. */
  | { kind: 'repeat'; segment: Segment; length: number }
  /** The request shares the segment's first `length` entries, then goes its own way. */
  | { kind: 'fork'; segment: Segment; length: number; named: Naming[] }
  | { kind: 'new' };

/** Entries a client may rewrite in old history without it being a different conversation. */
function editable(segment: Segment, index: number): boolean {
  if (index === segment.firstPromptIndex) return false;
  const { role, block } = segment.item(index);
  switch (block.type) {
    case 'tool-result':
    case 'thinking':
    case 'redacted-thinking':
    case 'reasoning':
      return true;
    case 'text':
      return role === 'user' && scaffoldingKind(leadingText(block)) !== undefined;
    default:
      return false;
  }
}

/**
 * An entry the client may stop re-sending: a transient reminder it injected once, or the model's
 * reasoning (Gemini CLI drops `thought` parts from the history it re-sends).
 */
function droppable(segment: Segment, index: number): boolean {
  const { role, block } = segment.item(index);
  if (role === 'assistant') return block.type === 'thinking' || block.type === 'redacted-thinking';
  return role === 'user' && block.type === 'text' && scaffoldingKind(leadingText(block)) !== undefined;
}

/**
 * An entry the client adds to old history that is not content: a thought signature on old output
 * (Gemini CLI gives the first call of a tool loop `skip_thought_signature_validator` when the API
 * sent none, or lost it across --resume), or a tool result repeated right after itself (a resumed
 * Gemini CLI session re-sends each of its results twice).
 */
function insertable(request: History, index: number): boolean {
  const { role, block } = request.entry(index);
  if (role === 'assistant' && block.type === 'redacted-thinking') return true;
  if (block.type !== 'tool-result' || index === 0) return false;
  const before = request.entry(index - 1);
  return before.role === role && sameBlock(before.block, block);
}

/** The id the request gives a tool call that the segment holds without one. */
function namedCall(segment: Segment, index: number, request: History, at: number): Naming | undefined {
  const held = segment.item(index).block;
  const sent = request.entry(at).block;
  if (held.type !== 'tool-call' || !held.callIdFromName || sent.type !== 'tool-call' || sent.callIdFromName) return undefined;
  return sent.callId === held.callId ? undefined : { index, callId: sent.callId };
}

interface Walk {
  /** Entries shared exactly (the fork point). */
  shared: number;
  /** Set when the whole segment was matched, allowing edits, dropped and added entries. */
  extend?: Placement & { kind: 'extend' };
  /** Tool calls named along the way. */
  named: Naming[];
}

/** Walks request and segment side by side from positions `i` and `j` (entries before are taken as matched). */
function walk(request: History, segment: Segment, i: number, j: number): Walk {
  const m = request.length;
  const k = segment.length;
  let shared = -1;
  const edits: Edit[] = [];
  const named: Naming[] = [];
  while (i < m && j < k) {
    if (segment.matches(j, request, i)) {
      const naming = namedCall(segment, j, request, i);
      if (naming) named.push(naming);
      i++;
      j++;
      continue;
    }
    if (shared < 0) shared = i;
    if (entryShapeOf(request.entry(i)) === entryShapeOf(segment.item(j)) && editable(segment, j)) {
      edits.push({ index: j, hash: request.hash(i) });
      i++;
      j++;
    } else if (droppable(segment, j)) {
      j++;
    } else if (insertable(request, i)) {
      i++;
    } else {
      break;
    }
  }
  if (shared < 0) shared = Math.min(i, j);
  if (j === k && k > 0) return { shared, named, extend: { kind: 'extend', segment, from: i, edits, dropped: k - i, named } };
  return { shared, named };
}

/**
 * The segment's newest output, walked: a client that re-sends it in its own form (reasoning
 * dropped, tool calls named or re-signed) still extends the segment, found without walking the
 * rest, which the request re-sends as before (the entry just before that output must match).
 */
function tailWalk(request: History, segment: Segment): Placement | undefined {
  const last = segment.calls[segment.calls.length - 1];
  const k = segment.length;
  if (!last || last.outputEnd !== k || last.outputStart < 1 || last.outputStart >= k) return undefined;
  const j = last.outputStart;
  const i = j - segment.dropped;
  if (i < 1 || i > request.length || !segment.matches(j - 1, request, i - 1)) return undefined;
  return walk(request, segment, i, j).extend;
}

function quickCheck(request: History, segment: Segment): Placement | undefined {
  const m = request.length;
  const k = segment.length;
  if (m === 0 || k === 0 || !segment.matches(0, request, 0)) return undefined;
  const last = k - 1 - segment.dropped;
  if (last >= 0 && last < m && segment.matches(k - 1, request, last)) {
    const naming = namedCall(segment, k - 1, request, last);
    return { kind: 'extend', segment, from: last + 1, edits: [], dropped: segment.dropped, named: naming ? [naming] : [] };
  }
  if (m < k && segment.dropped === 0 && segment.matches(m - 1, request, m - 1)) {
    return { kind: 'repeat', segment, length: m };
  }
  return tailWalk(request, segment);
}

class Best {
  placement: Placement | undefined;
  private score = -1;
  private at = -Infinity;
  consider(placement: Placement, score: number, at: number): void {
    if (score > this.score || (score === this.score && at > this.at)) {
      this.placement = placement;
      this.score = score;
      this.at = at;
    }
  }
}

/** Only the two-entry checks: cheap enough to ask of every recently active session. */
export function quickPlace(request: History, candidates: readonly Segment[]): Placement | undefined {
  const best = new Best();
  for (const segment of candidates) {
    const quick = quickCheck(request, segment);
    if (quick?.kind === 'extend') best.consider(quick, segment.length, segment.lastAt);
    else if (quick?.kind === 'repeat') best.consider(quick, quick.length, segment.lastAt);
  }
  return best.placement;
}

/**
 * Places a request among the candidate segments (those of its session with a compatible system
 * prompt). Ties go to the segment active most recently.
 */
export function place(request: History, candidates: readonly Segment[]): Placement {
  const quick = quickPlace(request, candidates);
  if (quick) return quick;
  const best = new Best();

  // Slow path: only segments that start like the request are worth a full walk.
  let fork: Placement | undefined;
  let forkScore = -1;
  for (const segment of candidates) {
    // An empty segment (a call whose history could not be read) starts like nothing.
    if (request.length === 0 || segment.length === 0 || !segment.matches(0, request, 0)) continue;
    const full = walk(request, segment, 0, 0);
    if (full.extend) {
      best.consider(full.extend, segment.length, segment.lastAt);
      continue;
    }
    if (full.shared === request.length) {
      // The whole request is an exact prefix (the quick check skips this when reminders were
      // dropped): a repeat of an earlier request.
      best.consider({ kind: 'repeat', segment, length: full.shared }, full.shared, segment.lastAt);
      continue;
    }
    // A fork must share the conversation's opening prompt; sharing only injected context
    // (a deferred-tools list, an environment block) makes it a new conversation.
    const promptAt = segment.firstPromptIndex;
    if (promptAt !== undefined && full.shared > promptAt && full.shared > forkScore) {
      // Calls named before the fork point are shared with the fork, which holds their results.
      fork = { kind: 'fork', segment, length: full.shared, named: full.named.filter((n) => n.index < full.shared) };
      forkScore = full.shared;
    }
  }
  return best.placement ?? fork ?? { kind: 'new' };
}
