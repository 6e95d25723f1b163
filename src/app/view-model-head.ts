// The first turns of a long session, posted to a new conversation page ahead of the whole model:
// the page's first frame draws only its first turns, and a 500-turn model (~0.75 MB of JSON) takes
// VS Code's webview messaging far longer to deliver than its first 60 turns do. The rest follows as
// an update once the page says that frame is drawn (docs/decisions.md, decision 65).
import type { ConversationViewModel } from '../../src/shared/conversation-view-model';

/** Turns of each thread in the head: more than the page draws before the rest can arrive. */
export const HEAD_TURNS = 60;

/** The model with each thread cut to its first `turns` turns, or undefined when none is longer. */
export function viewModelHead(model: ConversationViewModel, turns = HEAD_TURNS): ConversationViewModel | undefined {
  if (!model.threads.some((t) => t.turns.length > turns)) return undefined;
  return { ...model, threads: model.threads.map((t) => (t.turns.length > turns ? { ...t, turns: t.turns.slice(0, turns) } : t)) };
}
