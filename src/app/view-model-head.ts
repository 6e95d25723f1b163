// The first turns of a long session, posted to a new conversation page ahead of the whole model:
// the page's first frame draws only its first turns, and a 500-turn model (~0.75 MB of JSON) takes
// VS Code's webview messaging far longer to deliver than its first turns do (docs/decisions.md,
// decision 65). The engine holds the head as the page's revision, so the rest follows as a patch
// against it once the page says that frame is drawn (decision 76): the head is not sent twice, and
// the editor's thread never holds the whole model.
import type { ConversationViewModel } from '../../src/shared/conversation-view-model';

/** Turns of each thread in the head: as many as the page draws before the rest can arrive (its first frame draws 10, the next page 30). */
export const HEAD_TURNS = 30;

/** The model with each thread cut to its first `turns` turns, or undefined when none is longer. */
export function viewModelHead(model: ConversationViewModel, turns = HEAD_TURNS): ConversationViewModel | undefined {
  if (!model.threads.some((t) => t.turns.length > turns)) return undefined;
  return { ...model, threads: model.threads.map((t) => (t.turns.length > turns ? { ...t, turns: t.turns.slice(0, turns) } : t)) };
}
