// Which session does a call belong to when its own session id does not say it all?
//
// Without a wire session id (Gemini CLI, Aider, gateways without prompt_cache_key), heuristics,
// strongest first, among sessions of the same client that have no wire id either:
//  1. the call chains (previous_response_id) from a response of the session;
//  2. the call's history continues one of the session's histories (the quick check, then the walk
//     that placing it would do, whatever its system prompt: a `--resume`d Gemini CLI sends another;
//     this also catches side calls that carry the history, like Gemini's complexity scorer);
//  3. same system prompt fingerprint, and the session was active less than 30 minutes earlier
//     (the same agent picking up after /clear, or a new conversation right after: merged);
//  4. the session holds only side calls and was active less than 2 minutes earlier (the scorer
//     or title call that precedes a conversation's first request), or the call is a side call
//     and the session was active less than 2 minutes earlier.
// Otherwise the call starts a session `anon:<client>:<n>` (numbered 1, 2, 3… per client as created).
//
// Across sessions with wire ids, content links:
//  - a title request on its own session id (Codex's title thread) joins the session, same
//    client, active within 10 minutes, one of whose recent prompts its input contains;
//  - a new session whose opening prompt equals a spawning call's prompt in another session of
//    the same client, made within 30 minutes and still without result, is that call's subagent
//    (OpenCode runs each subagent in a child session); `task_id: ses_…` in the result confirms.
import type { LlmCall } from '../llm/llm-call';
import { FlatInput } from './history';
import { isRealPrompt, promptKey } from './scaffolding';
import type { SessionState } from './session-state';
import { promptTextAt } from './spawn-calls';

export const ANONYMOUS_GAP_MS = 30 * 60_000;
export const SIDE_GAP_MS = 2 * 60_000;
export const TITLE_WINDOW_MS = 10 * 60_000;
export const SPAWN_WINDOW_MS = 30 * 60_000;
/**
 * A session with no call for this long may leave memory (Assembler.evict, docs/decisions.md,
 * decision 66): longer than every window above, so that only a call naming it brings it back.
 */
export const SET_ASIDE_AFTER_MS = 35 * 60_000;

function gap(call: LlmCall, session: SessionState): number {
  return call.startedAt - session.lastAt;
}

/** The anonymous session a call without a wire session id belongs to, if any. */
export function findAnonymousSession(call: LlmCall, sessions: readonly SessionState[]): SessionState | undefined {
  const recent = sessions
    .filter((s) => s.client === call.client && gap(call, s) <= ANONYMOUS_GAP_MS && s.lastAt >= call.startedAt - ANONYMOUS_GAP_MS)
    .sort((a, b) => b.lastAt - a.lastAt);
  const previous = call.identity.previousResponseId;
  if (previous !== undefined) {
    const chained = recent.find((s) => s.responses.has(previous));
    if (chained) return chained;
  }
  const continued = recent.find((s) => s.continues(call));
  if (continued) return continued;
  const fingerprint = call.identity.systemFingerprint;
  if (!call.side && fingerprint !== undefined) {
    const same = recent.find((s) => s.segments.some((seg) => seg.fingerprint === fingerprint));
    if (same) return same;
  }
  return recent.find((s) => gap(call, s) <= SIDE_GAP_MS && (call.side !== undefined || !s.conversationStarted));
}

/** All user text of a call's input, for finding a prompt inside a title request. */
export function inputText(call: LlmCall): string {
  return call.input
    .filter((m) => m.role === 'user')
    .flatMap((m) => m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])))
    .join('\n');
}

/** The session a title request made on its own session id is about. */
export function findTitleHost(title: { client: LlmCall['client']; at: number; text: string }, sessions: Iterable<SessionState>): SessionState | undefined {
  let best: SessionState | undefined;
  for (const s of sessions) {
    if (s.client !== title.client || !s.conversationStarted) continue;
    if (title.at < s.startedAt - TITLE_WINDOW_MS || title.at > s.lastAt + TITLE_WINDOW_MS) continue;
    if (!s.recentPrompts.some((p) => p.trim() !== '' && title.text.includes(p.trim()))) continue;
    if (!best || s.lastAt > best.lastAt) best = s;
  }
  return best;
}

/** The opening real prompt of a request, as a key. */
export function openingPromptKey(call: LlmCall): string | undefined {
  const input = new FlatInput(call.input);
  for (let i = 0; i < input.length; i++) {
    const e = input.entry(i);
    if (isRealPrompt(e.role, e.block)) return promptKey(promptTextAt(input, i));
  }
  return undefined;
}

export interface PendingSpawn {
  sessionId: string;
  toolCallId: string;
  client: LlmCall['client'];
  at: number;
}

/** The session whose still-running spawning call has this call's opening prompt. */
export function findSpawnHost(call: LlmCall, pending: ReadonlyMap<string, PendingSpawn[]>, lookup: (id: string) => SessionState | undefined): SessionState | undefined {
  const key = openingPromptKey(call);
  if (key === undefined) return undefined;
  const candidates = (pending.get(key) ?? []).filter((p) => p.client === call.client && p.at <= call.startedAt && call.startedAt - p.at <= SPAWN_WINDOW_MS);
  const hosts = new Set<SessionState>();
  for (const p of candidates) {
    const host = lookup(p.sessionId);
    if (host && !host.toolResults.has(p.toolCallId)) hosts.add(host);
  }
  // Two sessions waiting on the same prompt cannot be told apart by content: link neither.
  return hosts.size === 1 ? [...hosts][0] : undefined;
}
