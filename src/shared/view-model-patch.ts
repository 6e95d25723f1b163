// A conversation's view model sent as what changed since the model the page already has
// (docs/decisions.md, decision 76). A live session's page gets one after each call: a 500-turn
// model is about 1 MB, the turns a call adds a few KB. The engine makes a patch
// (src/app/view-model-diff.ts); the page applies it here. Types and one pure function: both sides use them.
import type { ConversationViewModel, ToolDefinition, ViewBlock, ViewLiveTurn, ViewPoint, ViewThread, ViewTurn } from './conversation-view-model';

export interface ViewThreadPatch extends Omit<ViewThread, 'turns' | 'points' | 'systemPrompt' | 'toolDefinitions'> {
  /** The page's first `keepTurns` turns of this thread stand; `turns` replace the rest. */
  keepTurns: number;
  turns: ViewTurn[];
  /** Likewise for the context chart's points. */
  keepPoints: number;
  points: ViewPoint[];
  /** The system prompt and the tool definitions, when the thread is new or they changed; absent: as the page has them. */
  definitions?: { systemPrompt?: string; toolDefinitions: ToolDefinition[] };
}

/** The session's header whole, and each of its threads (in their new order) as a patch. */
export interface ConversationViewPatch extends Omit<ConversationViewModel, 'threads'> {
  threads: ViewThreadPatch[];
}

/**
 * The model `patch` makes of `base`, or undefined when it does not fit `base` (another session, a
 * thread it keeps that `base` lacks, more turns kept than `base` has). Kept turns and points are
 * `base`'s own objects, so a page can tell unchanged turns by identity.
 */
export function applyViewPatch(base: ConversationViewModel, patch: ConversationViewPatch): ConversationViewModel | undefined {
  if (base.sessionId !== patch.sessionId) return undefined;
  const threads = new Map(base.threads.map((t) => [t.id, t]));
  const next: ViewThread[] = [];
  for (const p of patch.threads) {
    const { keepTurns, turns, keepPoints, points, definitions, ...rest } = p;
    const old = threads.get(p.id);
    if (!old && (keepTurns > 0 || keepPoints > 0 || !definitions)) return undefined;
    if (old && (keepTurns > old.turns.length || keepPoints > old.points.length)) return undefined;
    const defs = definitions ?? { ...(old!.systemPrompt !== undefined ? { systemPrompt: old!.systemPrompt } : {}), toolDefinitions: old!.toolDefinitions };
    next.push({
      ...rest,
      ...defs,
      turns: keepTurns === 0 ? turns : old!.turns.slice(0, keepTurns).concat(turns),
      points: keepPoints === 0 ? points : old!.points.slice(0, keepPoints).concat(points),
    });
  }
  const { threads: _threads, ...header } = patch;
  return { ...header, threads: next };
}

/**
 * A call in progress as the page is to show it: whole (`turn`), or as what changed since the preview
 * the page has of it: its first `keepBlocks` blocks stand (the last of them longer by `grow`, when
 * only its text or arguments grew), then `blocks`. Previews are re-sent as a call streams, about
 * four times a second, so a long answer would otherwise cross again and again whole (decision 76).
 */
export type LiveTurnChange =
  | { callId: string; turn: ViewLiveTurn }
  | {
    callId: string; status: string; threadHint?: string; startedAt: number;
    keepBlocks: number; grow?: { field: 'text' | 'arguments'; tail: string }; blocks: ViewBlock[];
  };

/** The previews `changes` make of `base` (the page's), or undefined when they do not fit it. */
export function applyLiveChanges(base: readonly ViewLiveTurn[], changes: readonly LiveTurnChange[]): ViewLiveTurn[] | undefined {
  const byCall = new Map(base.map((t) => [t.callId, t]));
  const out: ViewLiveTurn[] = [];
  for (const c of changes) {
    if ('turn' in c) {
      out.push(c.turn);
      continue;
    }
    const old = byCall.get(c.callId);
    if (!old || c.keepBlocks > old.blocks.length || (c.grow && c.keepBlocks === 0)) return undefined;
    const blocks = old.blocks.slice(0, c.keepBlocks);
    if (c.grow) {
      const last = blocks[blocks.length - 1] as Record<string, unknown>;
      const before = last[c.grow.field];
      if (typeof before !== 'string') return undefined;
      blocks[blocks.length - 1] = { ...last, [c.grow.field]: before + c.grow.tail } as ViewBlock;
    }
    out.push({ callId: c.callId, ...(c.threadHint !== undefined ? { threadHint: c.threadHint } : {}), startedAt: c.startedAt, status: c.status, blocks: blocks.concat(c.blocks) });
  }
  return out;
}
