// The messages between the extension host's main thread and the capture engine's worker
// (src/engine/engine-worker.ts). Shared by both sides: types and a version only, so the host's
// bundle loads none of the engine's code by importing it. The worker posts `ready` (with the
// version) once it has loaded; the client sends nothing before that. Every request gets exactly
// one response, with a result or an error message; events flow from the engine unasked.
import type { LogEntry } from '../app/activity';
import type { CaptureSettings, OtlpSettingsInput } from '../app/capture-settings';
import type { TreeNodeDescriptor } from '../app/session-tree-model';
import type { SearchFilters } from '../conversation/session-search';
import type { SessionSummary } from '../conversation/types';
import type { SearchAnswer } from './session-search-index';
import type { LiveAnswer, ViewAnswer } from '../app/view-model-diff';
import type { ConversationViewModel } from '../../src/shared/conversation-view-model';
import type { RawCallView } from '../../src/shared/raw-call';

/** Bumped whenever a message changes shape; a worker of another version is refused at the handshake. */
export const ENGINE_PROTOCOL = 3;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface StartCaptureParams {
  dataDir: string;
  settings: CaptureSettings;
  /** Terminal credentials: connections carry a label; the token is the password (never required). */
  token: string;
  /** Listen on this port whatever the settings say (a restarted engine keeps the port terminals know). */
  port?: number;
  /**
   * The previous engine of this process died holding the store's writer lock: take it back. Only
   * the client, which saw that thread end, can know; a live engine's lock looks the same.
   */
  reclaimLock?: boolean;
}

/** What the host needs of a running capture: the terminal variables are built from it (shell-environment). */
export interface CaptureInfo {
  url: string;
  port: number;
  ca: { certPath: string; bundlePath: string };
  interceptedHosts: string[];
}

export interface HarImportOutcome {
  /** Entries imported; absent when the file was refused whole. */
  imported?: number;
  total: number;
  skipped: Array<{ index: number; reason: string }>;
  /** Why the file was refused whole. */
  error?: string;
}

export type RawCallAnswer = { view: RawCallView } | { error: string };

/** Every request: its parameters and its result. */
export interface EngineMethods {
  'capture.start': { params: StartCaptureParams; result: CaptureInfo };
  'capture.stop': { params: Record<string, never>; result: null };
  /** The OpenTelemetry export's settings changed while capturing: restart the export alone (decision 72). */
  'capture.otlp': { params: { otlp: OtlpSettingsInput }; result: null };
  /** A view wants what was captured: while capture is stopped, follow `dataDir` read-only. */
  'history.want': { params: { dataDir: string }; result: null };
  /** Stop following stored captures (before their files are deleted). */
  'history.pause': { params: Record<string, never>; result: null };
  /** Deletes the captured data (capture must be stopped); the CA is kept. */
  'data.clear': { params: { dataDir: string }; result: { removed: string[] } };
  'demo.run': { params: { dataDir: string }; result: { dataDir: string; sessions: number; claudeSessionId: string } };
  /** Shows the demo's store (read-only) instead of the user's; undefined: back to the user's. */
  'demo.show': { params: { dir: string | null }; result: null };
  'sessions.tree': { params: { sessionId: string }; result: TreeNodeDescriptor[] | null };
  /** Turns of every session shown that mention `query` (decision 71), newest sessions first. */
  'sessions.search': { params: { query: string; filters?: SearchFilters; limit?: number }; result: SearchAnswer };
  'session.markdown': { params: { sessionId: string }; result: string | null };
  'session.json': { params: { sessionId: string }; result: string | null };
  'conversation.model': { params: { sessionId: string }; result: ConversationViewModel | null };
  /**
   * The session's view model for a page: a patch against revision `since` when the engine still holds
   * that one, else whole, or with `head` only its first turns when it is long (a new page: the rest
   * follows as a patch); null when the session is not loaded (docs/decisions.md, decisions 65 and 76).
   */
  'conversation.view': { params: { sessionId: string; since?: number; head?: boolean }; result: ViewAnswer | null };
  /** A page no longer shows the session: the engine stops holding the model and previews it last gave it. */
  'conversation.forget': { params: { sessionId: string }; result: null };
  /** The session's calls in progress: as changes against the previews of revision `since` when the engine holds them (decision 76). */
  'conversation.live': { params: { sessionId: string; since?: number }; result: LiveAnswer };
  'conversation.raw': { params: { sessionId: string; callId: string }; result: RawCallAnswer };
  'activity.page': { params: { limit: number }; result: LogEntry[] | null };
  'har.export': { params: { dataDir: string; file: string }; result: { count: number } | null };
  'har.import': { params: { dataDir: string; file: string }; result: HarImportOutcome };
  /** Makes the engine throw an uncaught error, as a bug would (tests of the restart). */
  'test.crash': { params: Record<string, never>; result: null };
}

export type EngineMethod = keyof EngineMethods;

/** The sessions the engine shows changed. */
export interface SessionsEvent {
  type: 'sessions';
  /** Forget everything held: the list below is the whole of it (another store, or cleared). */
  reset: boolean;
  /** New or changed sessions, as they are now. */
  sessions: SessionSummary[];
  /** Sessions merged into another (into) or gone (into absent). */
  retired: Array<{ id: string; into?: string }>;
  /** Sessions with a model call in progress (the whole set, it is small). */
  streaming: string[];
  /** LLM calls loaded in all. */
  calls: number;
}

export type EngineEvent =
  | { type: 'log'; level: LogLevel; message: string }
  | SessionsEvent
  /** Sessions whose call in progress changed (ask conversation.live). */
  | { type: 'pending'; sessionIds: string[] }
  /** Anything in the store changed (debounced): the activity log refreshes. */
  | { type: 'store-changed' }
  /** The store shown: the demo's directory, or the user's (demo absent). */
  | { type: 'source'; demo?: string }
  /** Reading the captured exchanges into sessions: `done` of `total` (done === total: finished). */
  | { type: 'progress'; done: number; total: number };

export type ToEngine =
  | { type: 'request'; id: number; method: EngineMethod; params: unknown }
  /** Stop capture (a final snapshot), close the stores, then say `closed`. */
  | { type: 'shutdown' };

export type FromEngine =
  | { type: 'ready'; protocol: number }
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: { message: string; code?: string } }
  | { type: 'event'; event: EngineEvent }
  | { type: 'closed' };
