// A conversation's view model sent as what changed since the model the page already has
// (docs/decisions.md, decision 76). A live session's page gets one after each call: a 500-turn
// model is about 1 MB, the turns a call adds a few KB. The engine makes a patch
// (src/app/view-model-diff.ts); the page applies it here. Types and one pure function: both sides use them.
import type { ConversationViewModel, ToolDefinition, ViewPoint, ViewThread, ViewTurn } from './conversation-view-model';

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
