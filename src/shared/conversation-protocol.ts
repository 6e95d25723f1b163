// The messages between the extension host and the conversation webview. Shared by both sides,
// so no `vscode` and no DOM here. The webview posts `ready` once its script runs; the host sends
// nothing before that (messages posted earlier would be lost), then `session`, then updates. A long
// session's `session` may hold only the first turns of each thread (what the first frame draws):
// the webview says `drawn` once that frame is painted, and the host sends the rest as `sessionUpdated`.
import type { ConversationViewModel, ViewLiveTurn } from './conversation-view-model';
import type { RawCallView } from './raw-call';

/** The state VS Code keeps for a panel (restored by the serializer after a reload). */
export interface ConversationPanelState {
  sessionId: string;
}

export type WebviewToHost =
  | { type: 'ready' }
  /** The first frame of a `session` is drawn. */
  | { type: 'drawn' }
  | { type: 'openThread'; threadId: string }
  | { type: 'copy'; text: string }
  | { type: 'requestRaw'; callId: string };

export type HostToWebview =
  | { type: 'session'; model: ConversationViewModel; focus?: { threadId?: string; turnIndex?: number; query?: string } }
  | { type: 'sessionUpdated'; model: ConversationViewModel }
  | { type: 'sessionMissing'; sessionId: string }
  /** `query`: search the thread for it (a search across sessions opened this turn; its match is highlighted). */
  | { type: 'showThread'; threadId: string; turnIndex?: number; query?: string }
  /**
   * The session's calls still streaming, each as far as it has arrived (sent again as more does);
   * `turns: []` once none is (a completed call then comes in `sessionUpdated`).
   */
  | { type: 'live'; turns: ViewLiveTurn[] }
  /** The answer to `requestRaw`: the call's raw exchange, or why there is none. */
  | { type: 'raw'; callId: string; view?: RawCallView; error?: string };

const WEBVIEW_TYPES = new Set(['ready', 'drawn', 'openThread', 'copy', 'requestRaw']);

/** Validates a message from the webview (it is untrusted input as far as the host is concerned). */
export function parseWebviewMessage(value: unknown): WebviewToHost | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string' || !WEBVIEW_TYPES.has(m.type)) return undefined;
  switch (m.type) {
    case 'ready': return { type: 'ready' };
    case 'drawn': return { type: 'drawn' };
    case 'openThread': return typeof m.threadId === 'string' ? { type: 'openThread', threadId: m.threadId } : undefined;
    case 'copy': return typeof m.text === 'string' ? { type: 'copy', text: m.text } : undefined;
    case 'requestRaw': return typeof m.callId === 'string' ? { type: 'requestRaw', callId: m.callId } : undefined;
    default: return undefined;
  }
}
