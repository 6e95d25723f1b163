// Where does a re-sent history belong? Each request carries the whole history; the assembler
// finds the segment it extends. The quick check compares two entries per candidate (the first,
// and the segment's last at the matching place in the request) so that a long session stays
// linear in content: old entries are never compared or hashed again. When no candidate passes,
// a full walk tolerates what clients really do to old history (clear old tool results, drop
// transient reminders) and otherwise finds the longest shared prefix for a fork.
import { entryShapeOf, type History } from './history';
import { scaffoldingKind } from './scaffolding';
import type { Segment } from './segment';

export interface Edit {
  /** Position in the segment. */
  index: number;
  /** Hash of the entry as the request now carries it. */
  hash: number;
}

export type Placement =
  /** The request extends the segment; its entries from `from` on are new. */
  | { kind: 'extend'; segment: Segment; from: number; edits: Edit[]; dropped: number }
  /** The request equals the segment's first `length` entries: a repeat of an earlier request. */
  | { kind: 'repeat'; segment: Segment; length: number }
  /** The request shares the segment's first `length` entries, then goes its own way. */
  | { kind: 'fork'; segment: Segment; length: number }
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
      return role === 'user' && scaffoldingKind(block.text) !== undefined;
    default:
      return false;
  }
}

/** A transient reminder the client injected once and does not re-send. */
function droppable(segment: Segment, index: number): boolean {
  const { role, block } = segment.item(index);
  return role === 'user' && block.type === 'text' && scaffoldingKind(block.text) !== undefined;
}

function quickCheck(request: History, segment: Segment): Placement | undefined {
  const m = request.length;
  const k = segment.length;
  if (m === 0 || k === 0 || !segment.matches(0, request, 0)) return undefined;
  const last = k - 1 - segment.dropped;
  if (last >= 0 && last < m && segment.matches(k - 1, request, last)) {
    return { kind: 'extend', segment, from: last + 1, edits: [], dropped: 0 };
  }
  if (m < k && segment.dropped === 0 && segment.matches(m - 1, request, m - 1)) {
    return { kind: 'repeat', segment, length: m };
  }
  return undefined;
}

interface Walk {
  /** Entries shared exactly (the fork point). */
  shared: number;
  /** Set when the whole segment was matched, allowing edits and dropped reminders. */
  extend?: Placement & { kind: 'extend' };
}

function fullWalk(request: History, segment: Segment): Walk {
  const m = request.length;
  const k = segment.length;
  let i = 0;
  let j = 0;
  let shared = -1;
  let dropped = 0;
  const edits: Edit[] = [];
  while (i < m && j < k) {
    if (segment.matches(j, request, i)) {
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
      dropped++;
      j++;
    } else {
      break;
    }
  }
  if (shared < 0) shared = Math.min(i, j);
  if (j === k && k > 0) return { shared, extend: { kind: 'extend', segment, from: i, edits, dropped } };
  return { shared };
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
    if (request.length === 0 || !segment.matches(0, request, 0)) continue;
    const walk = fullWalk(request, segment);
    if (walk.extend) {
      best.consider(walk.extend, segment.length, segment.lastAt);
      continue;
    }
    if (walk.shared === request.length) {
      // The whole request is an exact prefix (the quick check skips this when reminders were
      // dropped): a repeat of an earlier request.
      best.consider({ kind: 'repeat', segment, length: walk.shared }, walk.shared, segment.lastAt);
      continue;
    }
    // A fork must share the conversation's opening prompt; sharing only injected context
    // (a deferred-tools list, an environment block) makes it a new conversation.
    const promptAt = segment.firstPromptIndex;
    if (promptAt !== undefined && walk.shared > promptAt && walk.shared > forkScore) {
      fork = { kind: 'fork', segment, length: walk.shared };
      forkScore = walk.shared;
    }
  }
  return best.placement ?? fork ?? { kind: 'new' };
}
