// The messages between the extension host and the conversation webview. Shared by both sides,
// so no `vscode` and no DOM here. The webview posts `ready` once its script runs; the host sends
// nothing before that (VS Code would hold it until the page's `load` event, later than the round
// trip of `ready`: decision 76), then `session`, then updates. A new page may carry its first
// `session` in its HTML, drawn before `ready`, which then says so (decision 89). Each
// model the page has is a revision of the engine's: a change comes as `sessionPatch` against it, and
// a page that cannot apply one says `stale` and gets the whole model again (`sessionUpdated`). A long
// session's `session` may hold only the first turns of each thread (what the first frame draws): the
// webview says `drawn` once that frame is painted, and the rest follows as a patch (docs/decisions.md,
// decisions 65 and 76).
import type { ConversationViewModel, ViewLiveTurn } from './conversation-view-model';
import type { RawCallView } from './raw-call';
import type { ConversationViewPatch, LiveTurnChange } from './view-model-patch';

/** The state VS Code keeps for a panel (restored by the serializer after a reload). */
export interface ConversationPanelState {
  sessionId: string;
}

/** The element of a new page that holds its first `session` message, as JSON (decision 89). */
export const FIRST_SESSION_ID = 'llm-capture-first-session';

export type WebviewToHost =
  /** `has`: the revision of the `session` message written into the page, which it has drawn already. */
  | { type: 'ready'; has?: number }
  /** The first frame of a `session` is drawn. */
  | { type: 'drawn' }
  /** A `sessionPatch` (or `livePatch`) did not fit what the page has: send it whole. */
  | { type: 'stale' }
  | { type: 'openThread'; threadId: string }
  | { type: 'copy'; text: string }
  | { type: 'requestRaw'; callId: string };

export type HostToWebview =
  | { type: 'session'; model: ConversationViewModel; revision: number; focus?: { threadId?: string; turnIndex?: number; query?: string } }
  | { type: 'sessionUpdated'; model: ConversationViewModel; revision: number }
  /** What changed since revision `base`, the model the page has; it makes revision `revision`. */
  | { type: 'sessionPatch'; base: number; revision: number; patch: ConversationViewPatch }
  | { type: 'sessionMissing'; sessionId: string }
  /** `query`: search the thread for it (a search across sessions opened this turn; its match is highlighted). */
  | { type: 'showThread'; threadId: string; turnIndex?: number; query?: string }
  /**
   * The session's calls still streaming, each as far as it has arrived (sent again as more does);
   * `turns: []` once none is (a completed call then comes in `sessionUpdated`).
   */
  | { type: 'live'; turns: ViewLiveTurn[]; revision: number }
  /** What changed in the previews since revision `base`, the ones the page has (decision 76). */
  | { type: 'livePatch'; base: number; revision: number; changes: LiveTurnChange[] }
  /** The answer to `requestRaw`: the call's raw exchange, or why there is none. */
  | { type: 'raw'; callId: string; view?: RawCallView; error?: string };

const WEBVIEW_TYPES = new Set(['ready', 'drawn', 'stale', 'openThread', 'copy', 'requestRaw']);

/** Validates a message from the webview (it is untrusted input as far as the host is concerned). */
export function parseWebviewMessage(value: unknown): WebviewToHost | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string' || !WEBVIEW_TYPES.has(m.type)) return undefined;
  switch (m.type) {
    case 'ready': return typeof m.has === 'number' ? { type: 'ready', has: m.has } : { type: 'ready' };
    case 'drawn': return { type: 'drawn' };
    case 'stale': return { type: 'stale' };
    case 'openThread': return typeof m.threadId === 'string' ? { type: 'openThread', threadId: m.threadId } : undefined;
    case 'copy': return typeof m.text === 'string' ? { type: 'copy', text: m.text } : undefined;
    case 'requestRaw': return typeof m.callId === 'string' ? { type: 'requestRaw', callId: m.callId } : undefined;
    default: return undefined;
  }
}
