// What a conversation page gets after a change: a patch against the model it has when the engine
// still holds that model, else the whole model (docs/decisions.md, decision 76). Runs in the engine:
// the editor's thread then passes on a few KB per call instead of the whole session.
import { randomInt } from 'node:crypto';
import type { ConversationViewModel, ViewBlock, ViewLiveTurn, ViewThread } from '../../src/shared/conversation-view-model';
import type { ConversationViewPatch, LiveTurnChange, ViewThreadPatch } from '../../src/shared/view-model-patch';
import { sameValue } from '../conversation/same-value';
import { copyField, definedField, sameField } from '../conversation/spilled-text';
import { viewModelHead } from './view-model-head';

/** The patch that turns `before` into `after` (both of one session): each thread's unchanged turns and points kept, the rest sent. */
export function diffViewModel(before: ConversationViewModel, after: ConversationViewModel): ConversationViewPatch {
  const threads = new Map(before.threads.map((t) => [t.id, t]));
  const { threads: _threads, ...header } = after;
  return { ...header, threads: after.threads.map((t) => threadPatch(threads.get(t.id), t)) };
}

const APART = new Set(['turns', 'points', 'systemPrompt', 'toolDefinitions']);

function threadPatch(before: ViewThread | undefined, t: ViewThread): ViewThreadPatch {
  const { turns, points, toolDefinitions } = t;
  // Field by field: the system prompt may be a spilled text (decision 83), read only when sent.
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(t)) if (!APART.has(key)) rest[key] = (t as unknown as Record<string, unknown>)[key];
  const keepTurns = before ? samePrefix(before.turns, turns) : 0;
  const keepPoints = before ? samePrefix(before.points, points) : 0;
  const sameDefinitions = before !== undefined && (sameField(before, t, 'systemPrompt') || before.systemPrompt === t.systemPrompt)
    && sameValue(before.toolDefinitions, toolDefinitions);
  const patch = { ...rest, keepTurns, turns: turns.slice(keepTurns), keepPoints, points: points.slice(keepPoints) } as ViewThreadPatch;
  if (!sameDefinitions) {
    const definitions = {} as NonNullable<ViewThreadPatch['definitions']>;
    if (definedField(t, 'systemPrompt')) copyField(definitions, 'systemPrompt', t, 'systemPrompt');
    definitions.toolDefinitions = toolDefinitions;
    patch.definitions = definitions;
  }
  return patch;
}

/** How many leading items of `a` and `b` are equal. */
function samePrefix<T>(a: readonly T[], b: readonly T[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && sameValue(a[i], b[i])) i++;
  return i;
}

export type ViewAnswer =
  /** `head`: the model is the session's first turns only (asked for with `head`); the rest comes as a patch. */
  | { revision: number; model: ConversationViewModel; head?: true }
  | { revision: number; base: number; patch: ConversationViewPatch };

/**
 * What was last given to a page for each session, under a revision number: a page that says it has
 * that revision gets what changed. A few sessions at most (one per open page, usually one); the
 * oldest is forgotten first, and a page closed says so (`forget`). Revisions start at a random
 * number, so that a page's revision from an engine before a restart never matches one of this engine's.
 */
class Held<T> {
  private readonly last = new Map<string, { revision: number; value: T }>();
  private next = randomInt(1, 2 ** 40);

  constructor(private readonly capacity: number) {}

  /** What was given for the session under revision `since`, if that is still the one held. */
  at(sessionId: string, since: number | undefined): T | undefined {
    const held = this.last.get(sessionId);
    return held && since !== undefined && held.revision === since ? held.value : undefined;
  }

  /** Holds `value` as what the session's page now has; its revision. */
  hold(sessionId: string, value: T): number {
    const revision = this.next++;
    this.last.delete(sessionId);
    this.last.set(sessionId, { revision, value });
    while (this.last.size > this.capacity) this.last.delete(this.last.keys().next().value!);
    return revision;
  }

  forget(sessionId: string): void {
    this.last.delete(sessionId);
  }
}

/** The view model each session's page was last given (decision 76). */
export class ViewRevisions extends Held<ConversationViewModel> {
  constructor(capacity = 4) {
    super(capacity);
  }

  /**
   * What a page that has revision `since` gets of `model`: a patch when that revision is the one
   * held, else the whole model, or with `head` (a new page) only its first turns when it is long.
   */
  answer(model: ConversationViewModel, since: number | undefined, head = false): ViewAnswer {
    const base = this.at(model.sessionId, since);
    if (base) return { revision: this.hold(model.sessionId, model), base: since!, patch: diffViewModel(base, model) };
    const first = head ? viewModelHead(model) : undefined;
    const revision = this.hold(model.sessionId, first ?? model);
    return first ? { revision, model: first, head: true } : { revision, model };
  }
}

/** The changes that turn the previews `before` into `after`; undefined when nothing changed. */
export function diffLiveTurns(before: readonly ViewLiveTurn[], after: readonly ViewLiveTurn[]): LiveTurnChange[] | undefined {
  const old = new Map(before.map((t) => [t.callId, t]));
  let changed = before.length !== after.length;
  const changes = after.map((t, i): LiveTurnChange => {
    const prev = old.get(t.callId);
    if (before[i]?.callId !== t.callId) changed = true;
    if (!prev) return { callId: t.callId, turn: t };
    let keep = samePrefix(prev.blocks, t.blocks);
    const grow = grownField(prev.blocks[keep], t.blocks[keep]);
    if (grow) keep++;
    if (grow || keep < t.blocks.length || keep < prev.blocks.length || prev.status !== t.status || prev.threadHint !== t.threadHint) changed = true;
    return {
      callId: t.callId, status: t.status, ...(t.threadHint !== undefined ? { threadHint: t.threadHint } : {}), startedAt: t.startedAt,
      keepBlocks: keep, ...(grow ? { grow } : {}), blocks: t.blocks.slice(keep),
    };
  });
  return changed ? changes : undefined;
}

/** `after` is `before` with only its text (or a tool call's arguments) longer: what was added. */
function grownField(before: ViewBlock | undefined, after: ViewBlock | undefined): { field: 'text' | 'arguments'; tail: string } | undefined {
  if (!before || !after || before.kind !== after.kind) return undefined;
  const field = before.kind === 'tool' ? 'arguments' : before.kind === 'text' || before.kind === 'thinking' ? 'text' : undefined;
  if (!field) return undefined;
  const a = (before as Record<string, unknown>)[field];
  const b = (after as Record<string, unknown>)[field];
  if (typeof a !== 'string' || typeof b !== 'string' || b.length <= a.length || !b.startsWith(a)) return undefined;
  return sameValue({ ...before, [field]: '' }, { ...after, [field]: '' }) ? { field, tail: b.slice(a.length) } : undefined;
}

export type LiveAnswer =
  | { revision: number; turns: ViewLiveTurn[] }
  | { revision: number; base: number; changes: LiveTurnChange[] }
  /** The page's previews are current. */
  | { revision: number; unchanged: true };

/** The previews of calls in progress each session's page was last given. */
export class LiveRevisions extends Held<ViewLiveTurn[]> {
  constructor(capacity = 4) {
    super(capacity);
  }

  answer(sessionId: string, turns: ViewLiveTurn[], since: number | undefined): LiveAnswer {
    const base = this.at(sessionId, since);
    if (!base) return { revision: this.hold(sessionId, turns), turns };
    const changes = diffLiveTurns(base, turns);
    return changes ? { revision: this.hold(sessionId, turns), base: since!, changes } : { revision: since!, unchanged: true };
  }
}
